"""Reading a config file and turning pydantic's validation errors into one readable line per problem.

Each line names the field (a dot path), the bad value and what was expected; an unknown key
lists the valid ones of its mapping with a suggestion:

>>> from pydantic import BaseModel, ConfigDict, ValidationError
>>> class Jar(BaseModel):
...     model_config = ConfigDict(extra="forbid")
...     ram_limit_gb: float = 2.0
>>> try:
...     Jar.model_validate({"ram_limit": 1})
... except ValidationError as exc:
...     print(format_validation_error(exc, "jar", Jar))
invalid jar:
  - unknown field 'ram_limit': expected one of ram_limit_gb; did you mean 'ram_limit_gb'?
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ..errors import ConfigError, did_you_mean

__all__ = ["format_validation_error", "read_json_file"]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside a field's annotation (``Intervention`` of ``list[Intervention]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _fields_at(loc: tuple[Any, ...], root: type[BaseModel] | None) -> list[str]:
    """The field names valid in the mapping at ``loc`` of a ``root`` document (empty when unknown)."""
    model = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def format_validation_error(exc: ValidationError, source: str = "experiment config",
                            root: type[BaseModel] | None = None) -> str:
    """One readable line per problem: field path, the bad value, and what is expected.

    ``root`` is the validated model, whose fields tell the valid names of a mapping.
    """
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        path = _dotted(loc) or "(top level)"
        kind = error["type"]
        given = error.get("input")
        if kind == "extra_forbidden":
            valid = _fields_at(loc[:-1], root)
            suggestion = did_you_mean(str(loc[-1]), valid)
            lines.append(f"unknown field '{path}': expected one of {', '.join(valid)}{suggestion}")
        elif kind == "missing":
            lines.append(f"field '{path}' is missing: it is required")
        elif kind == "value_error":
            message = str(error["msg"]).removeprefix("Value error, ")
            if message.startswith(("parameters.", "trigger_params.")):
                lines.append(f"{path}.{message}" if path != "(top level)" else message)
            else:
                lines.append(f"field '{path}': {message}" if loc else message)
        else:
            message = str(error["msg"]).replace("Input should be", "expected")
            lines.append(f"field '{path}' = {given!r} is invalid: {message}")
    body = "\n".join(f"  - {line}" for line in lines)
    return f"invalid {source}:\n{body}"


def read_json_file(path: str | Path, what: str = "experiment config") -> Any:
    """The parsed JSON of ``path``; unreadable or invalid files raise :class:`~sweeplab.errors.ConfigError`."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} '{path}': {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} '{path}' is not valid JSON: {exc.msg} at line {exc.lineno}, "
                          f"column {exc.colno}") from None
