"""What the Python API takes beyond a spec file: a function object and a base config as a dict.

The engine runs a sweep from files (a base config JSON, a function named ``"module:function"``),
so that a resume — from Python or ``sweeplab resume`` — finds the same experiment again. The
API turns the Python objects into such files, under the sweep's ``output_dir``:

* a dict ``base_config`` is written as ``<output_dir>/python_api/base_<hash>.json``, named by
  the hash of its canonical JSON: the same dict is the same file (so a resume's drift check sees
  the same base), a changed dict is another file (and the drift check sees the change); an
  earlier sweep's file is never overwritten;
* a function that a trial process can import by name (a module-level function of a module that a
  fresh interpreter started here finds) becomes ``"module:qualname"``; any other callable (defined
  in a notebook or script's ``__main__``, a lambda, a closure, a ``functools.partial``, or a function
  of a module found only through a ``sys.path`` edit, which then travels with it) is cloudpickled by value to
  ``<output_dir>/python_api/function_<name>_<hash>.pkl`` and handed to the python runner as
  ``"pickle:<absolute path>"``; the trial process unpickles it.

Both files are written only once the inputs are valid JSON / picklable; :class:`Staged` removes
what it wrote if the sweep is refused afterwards, so a refusal leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..journal.views import atomic_file
from ..planning.json_data import json_problem
from ..trial import canonical_json

__all__ = ["INPUTS_FOLDER", "PICKLE_PREFIX", "Staged", "child_imports", "importable_name"]

#: the folder under output_dir that holds the files made from Python objects
INPUTS_FOLDER = "python_api"
#: how the python runner's ``function`` names a pickled callable: ``pickle:/abs/path.pkl``
PICKLE_PREFIX = "pickle:"


def importable_name(function: Callable[..., Any]) -> str | None:
    """``"module:qualname"`` when a fresh process importing that name gets this very object, else None."""
    module_name = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not module_name or not qualname or module_name == "__main__" or "<" in qualname:
        return None  # __main__ is the notebook's kernel or the script; <lambda> and <locals> have no name
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError):
        return None
    return f"{module_name}:{qualname}" if target is function else None


def child_imports(module_name: str) -> bool:
    """Whether a trial process (started from this folder, with this environment) finds ``module_name``.

    A notebook that put ``../src`` on ``sys.path`` imports modules a fresh interpreter does not find: the
    folder its top-level package came from is looked up in a fresh interpreter's ``sys.path``.
    """
    top = sys.modules.get(module_name.partition(".")[0])
    origin = getattr(top, "__file__", None)
    if origin is None:  # built in, frozen or a namespace package: nothing to place
        return True
    root = Path(origin).resolve().parent
    if getattr(top, "__path__", None) is not None:  # a package: its folder sits in the root
        root = root.parent
    found = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(sys.path))"],
                           capture_output=True, text=True, timeout=60, check=False)
    if found.returncode != 0:
        return False
    return any(entry and Path(entry).resolve() == root or not entry and Path.cwd().resolve() == root
               for entry in json.loads(found.stdout))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")[:40] or "function"


class Staged:
    """The files made for one :class:`~sweeplab.ExperimentSweep`; :meth:`discard` removes the ones it created
    (the sweep was refused), :meth:`restore` writes them again (it is run after all)."""

    def __init__(self, output_dir: Path) -> None:
        self.folder = Path(output_dir) / INPUTS_FOLDER
        self.created: list[Path] = []
        self._contents: dict[Path, bytes] = {}  # every file this object stands for, to write it again
        # the folders this object creates (output_dir itself may be new), removed again by discard()
        self.new_folders = [p for p in (self.folder, *self.folder.parents) if not p.exists()]

    def base_config(self, value: Any) -> str:
        """The spec's ``base_config``: a path as given, or the file a dict is written to."""
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        if not isinstance(value, Mapping):
            raise SpecError(f"base_config must be the path of a JSON file or a dict, got a {type(value).__name__} "
                            f"({value!r:.80}): pass e.g. base_config={{'lr': 0.1}} or base_config='base.json'")
        data = dict(value)
        problem = json_problem(data)
        if problem is not None:
            location, what, _ = problem
            path = location.replace("[", ".").replace("]", "").lstrip(".")
            raise SpecError(f"base_config: the value at '{path}' {what}")
        text = canonical_json(data)
        path = self.folder / f"base_{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
        self._write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
        return str(path.resolve())

    def function(self, value: Any) -> str | None:
        """The spec's ``function``: text as given, ``"module:qualname"``, or ``"pickle:<path>"``."""
        if value is None or isinstance(value, str):
            return value
        if not callable(value):
            raise SpecError(f"function must be a callable or \"module:function\" text, got a {type(value).__name__} "
                            f"({value!r:.80})")
        name = importable_name(value)
        module = name.partition(":")[0] if name is not None else None
        if module is not None and child_imports(module):
            return name
        import cloudpickle
        # a module the trials cannot import (found through a sys.path edit) travels by value with its function
        package = sys.modules[module.partition(".")[0]] if module is not None else None
        try:
            if package is not None:
                cloudpickle.register_pickle_by_value(package)
            payload = cloudpickle.dumps(value)
        except Exception as exc:  # noqa: BLE001 - what the function closes over may refuse pickling in any way
            raise SpecError(f"function {getattr(value, '__qualname__', value)!r} cannot be sent to the trial "
                            f"processes: cloudpickle failed with {type(exc).__name__}: {exc}. Define it without "
                            "references to open files, locks or connections, or put it in a module and pass "
                            "\"module:function\"") from None
        finally:
            if package is not None:
                cloudpickle.unregister_pickle_by_value(package)
        label = _safe(getattr(value, "__name__", None) or type(value).__name__)
        path = self.folder / f"function_{label}_{hashlib.sha256(payload).hexdigest()[:16]}.pkl"
        self._write_bytes(path, payload)
        return PICKLE_PREFIX + str(path.resolve())

    def _write(self, path: Path, text: str) -> None:
        self._contents[path] = text.encode()
        if path.is_file():  # same content, same name: an earlier sweep made it
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_file(path) as handle:
            handle.write(text)
        self.created.append(path)

    def _write_bytes(self, path: Path, payload: bytes) -> None:
        self._contents[path] = payload
        if path.is_file():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(payload)
        os.replace(temporary, path)
        self.created.append(path)

    def restore(self) -> None:
        """Write again the files :meth:`discard` removed (a refused run is tried again)."""
        for path, payload in self._contents.items():
            if not path.is_file():
                self._write_bytes(path, payload)

    def discard(self) -> None:
        """Remove the files created by this object (the sweep was refused), and the folders it created if empty.

        A file that a sweep of the same output folder has used since (another sweep of the same dict or
        function, which found it in place) is kept: that sweep's resume needs it.
        """
        used = self._used_by_sweeps()
        for path in self.created:
            if str(path.resolve()) in used:
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.created.clear()
        for folder in self.new_folders:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()

    def _used_by_sweeps(self) -> str:
        """The stored specs of the sweeps beside this folder, as one text to look paths up in."""
        texts = []
        for config in self.folder.parent.glob("*/sweep_config.json"):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                texts.append(config.read_text(encoding="utf-8"))
        return "\n".join(texts)
