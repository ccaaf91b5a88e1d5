"""Staging: what a trial about to start needs on disk, and the launch record the executor gets.

For every attempt: ``trials/<folder>/attempt-<n>/`` with empty ``stdout.txt`` and ``stderr.txt`` (for
an executor that starts trials on other hosts, its start makes them there: see ``outputs``), the
trial's ``trials/<folder>/config.json``, and the original layout's ``exp…_config.json`` beside it in
the sweep folder (a hard link, or a copy). A trial's folder has a readable name
(:func:`trial_folder_name`: ``exp0003_lr=0.1_rep2``); ``trials/keys.tsv`` (:data:`KEYS_FILE`) names
each folder's trial key, a line ``<folder>\t<key>`` written before the folder is made (one write to
a file already open, where a file in each folder cost a file creation a trial: on some disks the
dearest call of all). Folders of older versions, which hold their key in a file ``key`` or are named
by the key alone, are still found and used (:func:`folder_keys`).
Every attempt runs in the sweep spec's folder (the folder of the sweep YAML; without one, the folder
sweeplab was started in), whatever its runner. The coordinator stages the trial likely to
start next while others run, so that when a slot frees up only the process start stands between
the old trial's exit and the new one's start (each file-system call costs up to a millisecond on
some disks). Paths are plain strings built from the absolute sweep folder: pathlib's parsing
costs more than the calls it wraps.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
from typing import TYPE_CHECKING, Any

from ..executors.base import STDERR_NAME, STDOUT_NAME
from ..runners.base import RunContext, TrialResources, trial_resources
from ..trial import Trial, TrialLaunch
from .folder import config_file_name

if TYPE_CHECKING:
    from ..planning.plan import Plan
    from ..planning.resolve import ResolvedSweep
    from .scheduler import Scheduler, Ticket

__all__ = ["Staging", "trial_folder_name", "folder_keys", "trial_folders", "KEYS_FILE", "KEY_FILE", "MAX_FOLDER_NAME"]

#: the file in the trials folder that names the key of each trial folder, a line ``<folder>\t<key>`` each
KEYS_FILE = "keys.tsv"
#: the file in a trial's folder that held the trial's key in older versions (still read)
KEY_FILE = "key"
#: a trial folder's readable name is cut to this many characters (a hash of the key keeps it unique)
MAX_FOLDER_NAME = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")
_LEGACY = re.compile(r"[0-9a-f]{12}")  # the folder name of older versions: the key itself


def trial_folder_name(trial: Trial, sweep_id: str, replicates: int = 1) -> str:
    """The readable name of a trial's folder: its experiment id without the sweep id, with the replicate.

    >>> from sweeplab.trial import Trial
    >>> trial_folder_name(Trial(3, "0123456789ab", "s_exp0003_lr=0.1", {"lr": 0.1}, repeat=1), "s", 2)
    'exp0003_lr=0.1_rep1'
    """
    name = trial.experiment_id
    if name.startswith(sweep_id + "_"):
        name = name[len(sweep_id) + 1:]
    if replicates > 1 and trial.label is None:
        name += f"_rep{trial.repeat}"
    name = _UNSAFE.sub("-", name).strip(".") or trial.key
    if len(name) > MAX_FOLDER_NAME:
        name = name[: MAX_FOLDER_NAME - 9].rstrip("_-.") + "_" + trial.key[:8]
    return name


def recorded_keys(trials_dir: str) -> dict[str, str]:
    """folder name → trial key, as :data:`KEYS_FILE` records them (the last line for a name counts)."""
    try:
        with open(os.path.join(trials_dir, KEYS_FILE), encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return {}
    keys = {}
    for line in text.split("\n")[:-1]:  # (a last line without its newline was cut short: left out)
        name, tab, key = line.partition("\t")
        if tab and key:
            keys[name] = key
    return keys


def _key_file(folder: str) -> str | None:
    """The key in an older version's ``key`` file of ``folder`` (None without one)."""
    try:
        with open(os.path.join(folder, KEY_FILE), encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None


def folder_keys(trials_dir: str) -> dict[str, str]:
    """folder → trial key of every trial folder under ``trials_dir`` (empty if there is none): recorded in
    :data:`KEYS_FILE`, else in the folder's ``key`` file, else (the oldest layout) the folder's name."""
    recorded = recorded_keys(trials_dir)
    return {entry.path: recorded.get(entry.name) or _key_file(entry.path) or entry.name
            for entry in _scan(trials_dir) if entry.is_dir()}


def trial_folders(trials_dir: str) -> dict[str, str]:
    """key → folder of every trial folder under ``trials_dir`` (every layout; empty if there is none)."""
    found: dict[str, str] = {}
    for folder, key in folder_keys(trials_dir).items():
        found.setdefault(key, folder)
    return found


class Staging:
    """The files and launch records of the attempts about to start, and the per-trial caches they need.

    ``reuse_leftovers``: whether an attempt folder left by a crash may be emptied and reused (the
    executor ends leftover processes itself, as local processes are); if not, a remote worker
    may still be writing there and the next free attempt number is taken instead.
    ``outputs``: whether to make the trial's stdout and stderr files too (see
    :attr:`~sweeplab.executors.base.Executor.stages_outputs`); the start makes them otherwise.
    """

    def __init__(self, sweep: ResolvedSweep, plan: Plan, *, reuse_leftovers: bool, outputs: bool = True) -> None:
        self.sweep = sweep
        self.plan = plan
        self.reuse_leftovers = reuse_leftovers
        self._outputs = (STDOUT_NAME, STDERR_NAME) if outputs else ()
        self.sweep_dir = str(sweep.sweep_dir.resolve())
        self.trials_dir = os.path.join(self.sweep_dir, "trials")
        # the spec's folder, so that 'python train.py' and a module next to the YAML are found from anywhere
        self._cwd = str(sweep.spec_dir.resolve()) if sweep.spec_dir is not None else os.getcwd()
        self._folders: dict[str, str] = {}  # key -> its trial folder, once made or found
        self._keys: dict[str, str] | None = None  # folder name -> key, as KEYS_FILE records (read once)
        self._keys_fd: int | None = None  # KEYS_FILE, open for appending
        self._legacy: set[str] | None = None  # folders named by key alone (a sweep begun by an older version)
        self._configs: dict[str, dict[str, Any]] = {}
        self._demands: dict[str, TrialResources] = {}
        self._staged: dict[str, tuple[Trial, int, str]] = {}  # key -> (trial, attempt, folder) made ahead

    # --- per-trial caches -----------------------------------------------------------------
    def config(self, trial: Trial) -> dict[str, Any]:
        """The config ``trial`` runs (computed once while it waits, dropped when it starts)."""
        config = self._configs.get(trial.key)
        if config is None:
            config = self._configs[trial.key] = self.plan.config_for(trial)
        return config

    def demand(self, trial: Trial) -> TrialResources:
        """What ``trial`` declares it needs (RAM, threads), for the scheduler."""
        need = self._demands.get(trial.key)
        if need is None:
            limits = self.sweep.spec.limits
            need = self._demands[trial.key] = trial_resources(
                self.sweep.runner, self.config(trial), limits.memory_gb if limits else None,
                limits.cpu_threads if limits else None, bool(limits and limits.resident_only))
        return need

    # --- files ----------------------------------------------------------------------------
    def trial_dir(self, trial: Trial) -> str:
        """The folder of ``trial`` (made on first use): its readable name, or the folder an earlier run made."""
        folder = self._folders.get(trial.key)
        if folder is not None:
            return folder
        if self._legacy is None:  # one look at the folder per run, not one per trial
            self._legacy = {key for key in (entry.name for entry in _scan(self.trials_dir)) if _LEGACY.fullmatch(key)}
        if trial.key in self._legacy:
            folder = os.path.join(self.trials_dir, trial.key)
        else:
            name = trial_folder_name(trial, self.sweep.sweep_id, self.sweep.replicates)
            # another trial may hold the name (a plan that changed under a resume): then the next
            folder = self._claim(name, trial.key) or self._claim(f"{name}_{trial.key[:8]}", trial.key) or \
                self._claim(trial.key, trial.key) or os.path.join(self.trials_dir, trial.key)
        self._folders[trial.key] = folder
        return folder

    def _claim(self, name: str, key: str) -> str | None:
        """The folder ``name`` made for ``key`` (recorded first), or found holding it; None if another's."""
        folder = os.path.join(self.trials_dir, name)
        keys = self._recorded()
        owner = keys.get(name)
        if owner != key:
            if os.path.isdir(folder):  # (a name recorded for another trial whose folder is gone is free)
                return folder if owner is None and _key_file(folder) == key else None
            self._record(name, key)
        try:
            os.mkdir(folder)  # 'trials' exists since the run began; one call, not makedirs' several
        except FileExistsError:
            pass
        return folder

    def _recorded(self) -> dict[str, str]:
        if self._keys is None:
            self._keys = recorded_keys(self.trials_dir)
        return self._keys

    def _record(self, name: str, key: str) -> None:
        """Append "name<TAB>key" to :data:`KEYS_FILE` (before the folder is made: a folder is never unnamed)."""
        if self._keys_fd is None:
            fd = os.open(os.path.join(self.trials_dir, KEYS_FILE),
                         os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                os.write(fd, b"\n")  # a line cut short by a crash stays alone on its line, left out
            self._keys_fd = fd
        os.write(self._keys_fd, f"{name}\t{key}\n".encode())
        self._recorded()[name] = key

    def close(self) -> None:
        """Close :data:`KEYS_FILE` (staging again opens it again)."""
        if self._keys_fd is not None:
            os.close(self._keys_fd)
            self._keys_fd = None

    def readable_config(self, trial: Trial) -> str:
        """The original layout's ``exp…_config.json`` of ``trial`` in the sweep folder."""
        return os.path.join(self.sweep_dir, config_file_name(self.sweep.sweep_id, trial.experiment_id))

    def stage(self, trial: Trial, attempt: int) -> tuple[int, str]:
        """Create the attempt's folder and files; returns (attempt number, absolute folder).

        The number is ``attempt`` unless a folder of that number exists already: left by an attempt
        that started unjournaled just before a crash. Its processes were ended by the recovery if
        the executor can do that (``reuse_leftovers``); the folder is then reused. Otherwise the
        next free number is taken, so that two attempts never share a folder.
        """
        join = os.path.join
        trial_dir = self.trial_dir(trial)
        while True:
            # absolute: it is the SWEEPLAB_ATTEMPT_DIR a resume matches to find this attempt's processes
            attempt_dir = join(trial_dir, f"attempt-{attempt}")
            try:
                os.mkdir(attempt_dir)
                break
            except FileExistsError:
                if self.reuse_leftovers:
                    shutil.rmtree(attempt_dir, ignore_errors=True)
                    os.mkdir(attempt_dir)
                    break
                attempt += 1
        for name in self._outputs:  # created now, so the start only has to open them
            os.close(os.open(join(attempt_dir, name), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644))
        # Rewritten by any rerun, and read only once the trial has started, so a plain write is
        # enough; the original layout's exp…_config.json is the same file under its readable name.
        config_path = join(trial_dir, "config.json")
        fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, (json.dumps(self.config(trial), indent=2) + "\n").encode())
        except OSError as exc:  # a full disk: say which file
            exc.filename = config_path
            raise
        finally:
            os.close(fd)
        readable = self.readable_config(trial)
        try:
            os.link(config_path, readable)
        except FileExistsError:
            if not os.path.samefile(config_path, readable):  # same inode: the write above updated both
                os.unlink(readable)
                os.link(config_path, readable)
        except OSError:  # no hard links here: write a copy
            shutil.copyfile(config_path, readable)
        return attempt, attempt_dir

    def stage_next(self, scheduler: Scheduler, now: float) -> None:
        """Stage the trial the scheduler will most likely start next, unless done already."""
        if scheduler.closed:
            return
        upcoming = scheduler.peek(now)
        if upcoming is not None and upcoming[0].key not in self._staged:
            trial, attempt = upcoming
            self._staged[trial.key] = (trial, *self.stage(trial, attempt))

    def unstage(self) -> None:
        """Remove what was staged for trials that did not start (the sweep stopped first)."""
        for trial, attempt, attempt_dir in self._staged.values():
            if attempt == 1:  # the trial never ran: no trace of it should remain
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.readable_config(trial))
                shutil.rmtree(os.path.dirname(attempt_dir), ignore_errors=True)
                self._folders.pop(trial.key, None)
            else:
                shutil.rmtree(attempt_dir, ignore_errors=True)
        self._staged.clear()

    # --- the launch record ----------------------------------------------------------------
    def launch_for(self, ticket: Ticket) -> tuple[TrialLaunch, Ticket]:
        """What the executor starts for ``ticket``, its files staged (now, if not done ahead).

        Returns the ticket as it will start: its attempt number may have moved on (see :meth:`stage`).
        """
        sweep, trial = self.sweep, ticket.trial
        staged = self._staged.pop(trial.key, None)
        if staged is None or staged[1] < ticket.attempt:  # not staged, or staged for an earlier attempt
            if staged is not None:
                shutil.rmtree(staged[2], ignore_errors=True)
            attempt, attempt_dir = self.stage(trial, ticket.attempt)
        else:
            _, attempt, attempt_dir = staged
        if attempt != ticket.attempt:
            ticket = dataclasses.replace(ticket, attempt=attempt)
        self._configs.pop(trial.key, None)  # keep memory flat on huge plans; a retry recomputes it
        self._demands.pop(trial.key, None)
        context = RunContext(sweep_id=sweep.sweep_id, experiment_id=trial.experiment_id, key=trial.key,
                             seed=trial.seed, attempt=ticket.attempt,
                             config_path=os.path.join(os.path.dirname(attempt_dir), "config.json"),
                             attempt_dir=attempt_dir, db_path=os.path.join(attempt_dir, "experiment.db"),
                             cpu_threads=ticket.resources.cpu_threads, params=trial.params)
        argv, env = sweep.runner.command(context)
        memory = ticket.resources.memory_gb
        launch = TrialLaunch(
            sweep_id=sweep.sweep_id, key=trial.key, experiment_id=trial.experiment_id, attempt=ticket.attempt,
            argv=tuple(argv), attempt_dir=attempt_dir, cwd=self._cwd, env=env,
            timeout=sweep.spec.timeout, grace=sweep.spec.grace_period,
            memory_bytes=int(memory * 1024 ** 3) if memory else None, cpu_threads=ticket.resources.cpu_threads,
            resident_only=ticket.resources.resident_only)
        return launch, ticket


def _scan(folder: str) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(folder))
    except OSError:
        return []
