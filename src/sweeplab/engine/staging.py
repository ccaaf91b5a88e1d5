"""Staging: what a trial about to start needs on disk, and the launch record the executor gets.

For every attempt: ``trials/<folder>/attempt-<n>/`` with empty ``stdout.txt`` and ``stderr.txt`` (for
an executor that starts trials on other hosts, its start makes them there: see ``outputs``), the
trial's ``trials/<folder>/config.json``, and the original layout's ``exp…_config.json`` beside it in
the sweep folder (a hard link, or a copy). A trial's folder has a readable name
(:func:`trial_folder_name`: ``exp0003_lr=0.1_rep2``) and holds its key in the file ``key``
(:func:`folder_key`); folders of older versions, named by the key alone, are still found and used.
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

__all__ = ["Staging", "trial_folder_name", "folder_key", "trial_folders", "KEY_FILE", "MAX_FOLDER_NAME"]

#: the file in a trial's folder that holds the trial's key
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


def folder_key(path: str) -> str:
    """The key of the trial whose folder is ``path``: its ``key`` file, else (older versions) its name."""
    try:
        with open(os.path.join(path, KEY_FILE), encoding="utf-8") as handle:
            return handle.read().strip() or os.path.basename(path)
    except OSError:
        return os.path.basename(path)


def trial_folders(trials_dir: str) -> dict[str, str]:
    """key → folder of every trial folder under ``trials_dir`` (both layouts; empty if there is none)."""
    found: dict[str, str] = {}
    try:
        entries = list(os.scandir(trials_dir))
    except OSError:
        return found
    for entry in entries:
        if entry.is_dir():
            found.setdefault(folder_key(entry.path), entry.path)
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
            folder = self._claim(os.path.join(self.trials_dir, name), trial.key)
            if folder is None:  # another trial holds that name (a plan that changed under a resume)
                folder = self._claim(os.path.join(self.trials_dir, f"{name}_{trial.key[:8]}"), trial.key)
            if folder is None:
                folder = self._claim(os.path.join(self.trials_dir, trial.key), trial.key) or \
                    os.path.join(self.trials_dir, trial.key)
        self._folders[trial.key] = folder
        return folder

    @staticmethod
    def _claim(folder: str, key: str) -> str | None:
        """``folder`` made for ``key`` (its key file written), or found holding ``key``; None if another's."""
        try:
            os.mkdir(folder)  # 'trials' exists since the run began; one call, not makedirs' several
        except FileExistsError:
            return folder if folder_key(folder) == key else None
        fd = os.open(os.path.join(folder, KEY_FILE), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW,
                     0o644)
        try:
            os.write(fd, (key + "\n").encode())
        finally:
            os.close(fd)
        return folder

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
