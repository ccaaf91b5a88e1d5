"""The flat dict of settings a mode reads, and typed reads of it with precise errors.

A mode reads one flat mapping (SEASON3 §3): the experiment's ``epistemic_frame.custom_beliefs``
(values of any type), then the keys of ``hive_config``, then of ``mode_specific_config``;
later ones win. The config builds it (``config.mode_settings()``); :func:`mode_settings`
falls back to assembling it from those fields for a config without that method.

>>> settings = ModeSettings({"success_rate": 0.4, "safe_mode": None}, "illusory_operator")
>>> settings.number("success_rate", 0.2, 0.0, 1.0), settings.flag("safe_mode", True)
(0.4, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import ConfigError

__all__ = ["mode_settings", "ModeSettings"]


def mode_settings(config: Any) -> dict[str, Any]:
    """The flat settings ``config``'s mode reads (custom beliefs < hive_config < mode_specific_config)."""
    method = getattr(config, "mode_settings", None)
    if callable(method):
        return dict(method())
    settings: dict[str, Any] = {}
    settings.update(getattr(config.epistemic_frame, "custom_beliefs", None) or {})
    settings.update(getattr(config, "hive_config", None) or {})
    settings.update(getattr(config, "mode_specific_config", None) or {})
    return settings


class ModeSettings:
    """Typed reads of a mode's settings. A missing key or a null value gives the default; a value of the
    wrong kind is a :class:`~sweeplab.errors.ConfigError` naming the mode, the key, the value and what
    was expected."""

    def __init__(self, values: Mapping[str, Any], mode: str) -> None:
        self.values = dict(values)
        self.mode = mode

    def __contains__(self, key: str) -> bool:
        return self.values.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as given (``default`` when missing or null)."""
        value = self.values.get(key)
        return default if value is None else value

    def _bad(self, key: str, value: Any, expected: str) -> ConfigError:
        return ConfigError(f"mode {self.mode!r}: setting {key!r} = {value!r} is invalid: expected {expected} "
                           "(mode settings come from mode_specific_config, hive_config and "
                           "epistemic_frame.custom_beliefs)")

    def number(self, key: str, default: float, low: float | None = None, high: float | None = None) -> float:
        """A number within [low, high]."""
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._bad(key, value, "a number")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self._bad(key, value, f"a number from {low:g} to {high:g}" if low is not None and high is not None
                            else f"a number of at least {low:g}" if low is not None else f"at most {high:g}")
        return float(value)

    def integer(self, key: str, default: int, low: int | None = None, high: int | None = None) -> int:
        """A whole number within [low, high]."""
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._bad(key, value, "a whole number")
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"from {low} to {high}" if low is not None and high is not None else f"of at least {low}"
            raise self._bad(key, value, f"a whole number {span}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        """A boolean."""
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._bad(key, value, "true or false")
        return value

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        """A string, one of ``choices`` when given (compared case-insensitively, returned as listed)."""
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self._bad(key, value, "a non-empty string")
        if choices:
            folded = {choice.lower(): choice for choice in choices}
            if value.strip().lower() not in folded:
                raise self._bad(key, value, "one of " + ", ".join(repr(c) for c in choices))
            return folded[value.strip().lower()]
        return value

    def mapping(self, key: str) -> dict[str, Any]:
        """A mapping (empty when missing)."""
        value = self.values.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self._bad(key, value, "a mapping")
        return dict(value)

    def items(self, key: str) -> list[Any]:
        """A list (empty when missing)."""
        value = self.values.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._bad(key, value, "a list")
        return list(value)
