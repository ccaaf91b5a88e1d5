"""The one watcher behind every open page: a cheap change check, one rebuild per change, pushed to all.

Each page subscribes to a *topic* (the index, or one sweep seen through one metric). One
background task looks, every ``interval`` seconds, at the topics that have subscribers: the
size and modification time of the database, its write-ahead log and the sweep's
``events.jsonl`` (a ``stat`` each, no SQL). Only when these changed is the topic rebuilt — once,
in a worker thread, however many pages show it — and the new JSON is handed to every
subscriber. A page therefore costs the journal nothing by itself, and a thousand open pages
cost what one does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from ..journal.live import change_token, database_files
from .catalog import Catalog, coordinator_gone
from .snapshot import index_snapshot, sweep_fingerprint, sweep_snapshot

__all__ = ["Hub", "Topic", "INTERVAL"]

log = logging.getLogger(__name__)

#: seconds between two change checks
INTERVAL = 0.5
#: at most this many topics at once (each open sweep page and metric is one)
MAX_TOPICS = 256
#: a view that took d seconds to build is not rebuilt for BACKOFF * d seconds: rebuilding stays under
#: 1/BACKOFF of one core, however fast the journal changes (a sweep page of 500 trials: ~50 ms, so 1 s)
BACKOFF = 20


@dataclass
class Topic:
    """What one kind of page shows: its last JSON, its version and who is watching."""

    key: tuple[str, ...]
    build: Callable[[], dict[str, Any]]
    files: Callable[[], list[Any]]
    subscribers: int = 0
    version: int = 0
    payload: str = ""
    token: Any = None
    fingerprint: Callable[[], Any] | None = None
    gone: Callable[[], bool] | None = None  # whether the sweep's coordinator died (no file changes then)
    last_print: Any = None
    rebuilds: int = 0
    not_before: float = 0.0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)


class Hub:
    """The topics of one dashboard and the task that keeps them current."""

    def __init__(self, catalog: Catalog, interval: float = INTERVAL) -> None:
        self.catalog = catalog
        self.interval = interval
        self.topics: dict[tuple[str, ...], Topic] = {}
        self.checks = 0
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one rebuild at a time: the journal sees one reader

    # --- topics ---------------------------------------------------------------------------
    def _index_files(self) -> list[Any]:
        files: list[Any] = [self.catalog.sweep_dir]
        for db in sorted(self.catalog.databases()):
            files.extend(database_files(db))
        files.extend(self.catalog.sweep_dir / name / "events.jsonl" for name in self.catalog.folders())
        return files

    def _sweep_files(self, sweep_id: str) -> list[Any]:
        entry = self.catalog.entry(sweep_id)
        if entry is None:
            return []
        files: list[Any] = list(database_files(entry.db_path))
        folder = self.catalog.sweep_dir / sweep_id
        return files + [folder / "events.jsonl", folder / "sweep_config.json"]

    def topic(self, key: tuple[str, ...]) -> Topic:
        """The topic ``("index",)`` or ``("sweep", sweep_id, metric)`` (metric "" for the objective)."""
        topic = self.topics.get(key)
        if topic is not None:
            return topic
        if len(self.topics) >= MAX_TOPICS:
            for stale in [k for k, t in self.topics.items() if t.subscribers == 0]:
                del self.topics[stale]
        if key[0] == "index":
            topic = Topic(key, lambda: index_snapshot(self.catalog), self._index_files)
        else:
            sweep_id, metric = key[1], key[2] or None
            topic = Topic(key, lambda: sweep_snapshot(self.catalog, sweep_id, metric),
                          lambda: self._sweep_files(sweep_id),
                          fingerprint=lambda: sweep_fingerprint(self.catalog, sweep_id),
                          gone=lambda: coordinator_gone(self.catalog.sweep_dir / sweep_id))
        self.topics[key] = topic
        return topic

    async def refresh(self, topic: Topic, *, force: bool = False) -> bool:
        """Rebuild ``topic`` if its files changed (or ``force`` and it was never built); True when its JSON changed.

        The check is made under the lock: a page opening while the watcher rebuilds the same
        view waits for that rebuild instead of making a second one.
        """
        async with self._lock:
            first = force and not topic.payload
            if not first and time.monotonic() < topic.not_before:
                return False
            token = (change_token(*topic.files()), topic.gone() if topic.gone else None)
            if token == topic.token and not first:
                return False
            started = time.monotonic()
            # the files are shared by every sweep of the database: ask the journal whether this one changed
            fingerprint = await asyncio.to_thread(topic.fingerprint) if topic.fingerprint else None
            if not first and fingerprint is not None and fingerprint == topic.last_print \
                    and token[1] == (topic.token[1] if topic.token else None):
                topic.token = token
                return False
            data = await asyncio.to_thread(topic.build)
            topic.not_before = time.monotonic() + BACKOFF * (time.monotonic() - started)
        topic.last_print = fingerprint
        topic.token = token
        topic.rebuilds += 1
        payload = json.dumps(data, default=str, allow_nan=False)
        if payload == topic.payload:
            return False
        async with topic.changed:
            topic.payload = payload
            topic.version += 1
            topic.changed.notify_all()
        return True

    async def current(self, key: tuple[str, ...]) -> str:
        """The topic's JSON now (rebuilt first if its files changed since the last build)."""
        topic = self.topic(key)
        await self.refresh(topic, force=not topic.payload)
        return topic.payload

    async def subscribe(self, key: tuple[str, ...]) -> AsyncIterator[str]:
        """Yield the topic's JSON now and after every change, until the caller stops iterating."""
        topic = self.topic(key)
        topic.subscribers += 1
        try:
            if not topic.payload:
                await self.refresh(topic, force=True)
            seen = topic.version
            yield topic.payload
            while True:
                async with topic.changed:
                    await topic.changed.wait_for(lambda: topic.version != seen)
                seen = topic.version
                yield topic.payload
        finally:
            topic.subscribers -= 1

    # --- the background task ----------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            for topic in [t for t in self.topics.values() if t.subscribers > 0]:
                try:
                    await self.refresh(topic)
                except Exception:  # a damaged or vanished database must not stop the watcher
                    log.exception("cannot refresh the dashboard's view %s", "/".join(topic.key))
            self.checks += 1
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    def start(self) -> None:
        """Start the background task (on the running event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the background task."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
