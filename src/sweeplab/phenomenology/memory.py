"""The mind's long-term memories, and the model of how much RAM the mind occupies.

:class:`MemoryStore` holds what the mind remembers. Interventions corrupt, erase and plant
memories; each memory knows whether it is intact, corrupted or false, which the mind itself
can only notice imperfectly.

:class:`FootprintModel` is the synthetic memory model of the simulated mind. It is a
caricature on purpose, scaled so that a jar of 1–8 GB fills up within tens of cycles:

``footprint = weights + runtime + threads·buffer + kv·min(context, window) + heap·processed``

``weights`` follow from the model's size and quantisation; the KV cache grows with the
tokens in context (capped by the context window); the heap grows with every token processed
since the process started and is only returned by a restart (or a compaction by a mind with
agency). So a lower RAM limit, a larger model, a larger context window, longer replies and
more frequent questioning all crash the mind sooner.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from .model_profile import ModelProfile

__all__ = ["Memory", "MemoryStore", "FootprintModel", "count_tokens", "garble"]

_CORRUPT_WORDS = ("never", "someone else", "a red door", "underwater", "backwards", "nobody", "the fire",
                  "a stranger's voice", "yesterday", "static")


def count_tokens(text: str) -> int:
    """Approximate token count (four characters a token), the same for every mind."""
    return max(1, (len(text) + 3) // 4)


@dataclass
class Memory:
    """One long-term memory. ``origin``: ``lived``, ``false`` (planted) or ``hallucination``."""

    memory_id: int
    cycle: int
    content: str
    origin: str = "lived"
    corruptions: int = 0
    original: str | None = None  # the content before its first damage (what a repair restores)

    @property
    def integrity(self) -> str:
        """``intact``, ``corrupted``, ``false`` (planted) or ``hallucination``."""
        if self.origin != "lived":
            return self.origin
        return "corrupted" if self.corruptions else "intact"


@dataclass
class MemoryStore:
    """The memories a mind keeps, with running totals of what was done to them."""

    memories: list[Memory] = field(default_factory=list)
    next_id: int = 1
    corruptions_total: int = 0
    erased_total: int = 0
    wiped_total: int = 0
    planted_total: int = 0

    def add(self, cycle: int, content: str, origin: str = "lived") -> Memory:
        """Store a new memory."""
        memory = Memory(self.next_id, cycle, content, origin)
        self.next_id += 1
        self.memories.append(memory)
        if origin != "lived":
            self.planted_total += 1
        return memory

    def damage(self, memory: Memory, content: str) -> None:
        """Replace ``memory``'s content by a damaged version of it (counted as one corruption)."""
        if memory.original is None:
            memory.original = memory.content
        memory.content = content
        memory.corruptions += 1
        self.corruptions_total += 1

    def repair(self, memory: Memory) -> bool:
        """Restore a damaged memory's first content; False when it cannot be (never damaged, or planted)."""
        if memory.original is None or memory.origin != "lived":
            return False
        memory.content, memory.original, memory.corruptions = memory.original, None, 0
        return True

    def plant_first(self, cycle: int, content: str) -> Memory:
        """Plant a false memory before all others (what the mind remembers first)."""
        memory = self.add(cycle, content, origin="false")
        self.memories.insert(0, self.memories.pop())
        return memory

    def trim(self, keep: int) -> int:
        """Keep only the ``keep`` newest memories (a history cap); returns how many were dropped."""
        dropped = max(0, len(self.memories) - keep)
        if dropped:
            del self.memories[:dropped]
        return dropped

    def corrupt(self, rate: float, rng: random.Random) -> list[Memory]:
        """Corrupt each memory with probability ``rate``; return the ones corrupted now.

        One draw per memory whatever the rate, so runs that differ only in rate stay aligned.
        """
        hit = []
        for memory in self.memories:
            if rng.random() < rate:
                if memory.original is None:
                    memory.original = memory.content
                memory.content = garble(memory.content, rng)
                memory.corruptions += 1
                hit.append(memory)
        self.corruptions_total += len(hit)
        return hit

    def erase(self, rate: float, rng: random.Random) -> int:
        """Erase each memory with probability ``rate``; return how many went."""
        kept = [m for m in self.memories if rng.random() >= rate]
        erased = len(self.memories) - len(kept)
        self.memories = kept
        self.erased_total += erased
        return erased

    def wipe(self) -> int:
        """Forget everything (the amnesiac loop); the mind does not perceive these as gaps."""
        wiped = len(self.memories)
        self.memories = []
        self.wiped_total += wiped
        return wiped

    def recent(self, count: int) -> list[Memory]:
        """The ``count`` newest memories, oldest first."""
        return self.memories[-count:] if count > 0 else []

    def counts(self) -> dict[str, int]:
        """How many memories are held: intact, corrupted, and false (planted or hallucinated)."""
        tally = {"intact": 0, "corrupted": 0, "false": 0}
        for memory in self.memories:
            tally["false" if memory.origin != "lived" else memory.integrity] += 1
        return {"total": len(self.memories), **tally}

    def snapshot(self) -> list[dict[str, Any]]:
        """Every memory as a plain record (what the panopticon's observers read)."""
        return [{"id": m.memory_id, "cycle": m.cycle, "integrity": m.integrity, "content": m.content}
                for m in self.memories]


def garble(content: str, rng: random.Random) -> str:
    """Replace one word with a wrong detail and swap two others."""
    words = content.split()
    if not words:
        return rng.choice(_CORRUPT_WORDS)
    words[rng.randrange(len(words))] = rng.choice(_CORRUPT_WORDS)
    if len(words) > 2:
        i, j = rng.randrange(len(words)), rng.randrange(len(words))
        words[i], words[j] = words[j], words[i]
    return " ".join(words)


@dataclass(frozen=True)
class FootprintModel:
    """Synthetic RAM footprint and speed of a model of a given size (see the module docstring)."""

    profile: ModelProfile
    runtime_gb: float = 0.25
    thread_buffer_gb: float = 0.02
    kv_gb_per_token: float = 0.00012   # at 1B parameters
    heap_gb_per_token: float = 0.0011  # at 1B parameters
    tokens_per_second_1b: float = 25.0

    def base_gb(self, cpu_threads: int) -> float:
        """Footprint of a freshly loaded model with an empty context."""
        return self.profile.weights_gb + self.runtime_gb + self.thread_buffer_gb * cpu_threads

    def footprint_gb(self, context_tokens: int, processed_tokens: int, context_window: int,
                     cpu_threads: int) -> float:
        """Footprint with ``context_tokens`` in context and ``processed_tokens`` seen since start."""
        scale = self.profile.size_factor
        kv = self.kv_gb_per_token * scale * min(context_tokens, context_window)
        heap = self.heap_gb_per_token * scale * processed_tokens
        return self.base_gb(cpu_threads) + kv + heap

    def generation_speed(self, cpu_threads: int, gpu_layers: int) -> float:
        """Tokens generated per second; more threads and offloaded layers are faster.

        Offloaded layers do not lower the RAM footprint: on the unified-memory boards this
        project targets (Jetson), GPU memory is the same RAM.
        """
        layers = self.profile.layers
        offloaded = layers if gpu_layers < 0 else min(gpu_layers, layers)
        gpu_boost = 1.0 + 3.0 * offloaded / layers
        return self.tokens_per_second_1b / self.profile.params_billion * cpu_threads ** 0.6 * gpu_boost

    def load_seconds(self) -> float:
        """Time to load the weights again after a crash (about 1 GB/s)."""
        return 1.0 + self.profile.weights_gb
