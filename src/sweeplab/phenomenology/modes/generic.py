"""Legacy and custom modes: one mind whose memories survive its deaths.

``isolated``, ``peer``, ``observer``, ``observed``, ``matrix_observed``, ``matrix_observer``,
``matrix_god`` and ``custom`` all run here: the lab's generic adapter counts crashes, leaves
memory alone and names the death count in its prompt (the resurrection notice does). A mind
that is ``being_watched`` is observed all the same (see :mod:`..experiment`).
"""

from __future__ import annotations

from typing import ClassVar

from .base import Mode, Seat

__all__ = ["GenericMode"]


class GenericMode(Mode):
    """One mind, memories kept across deaths (the base :class:`~.base.Mode`'s behaviour)."""

    name: ClassVar[str] = "generic"

    def observables(self, seat: Seat) -> dict[str, float]:
        return {"death_count": seat.deaths}
