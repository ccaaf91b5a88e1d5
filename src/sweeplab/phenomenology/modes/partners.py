"""How a mode derives a partner's config from the lead's: the helpers a mode's seat plans use.

A partner (brain B, player b, a panopticon's observer or subject, a hive instance with its own
limits) is read from the lead's ``partner_config`` or derived from the lead's config by the mode
(:meth:`~.base.Mode.derive_partner`); either way the lead's ``partner_overrides`` are merged in
and the result is validated under the lead's ``experiment_id`` and seed. :mod:`..encounter`
decides which minds a trial holds and uses these; the modes use them from their seat plans.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Protocol

from ...errors import ConfigError
from .settings import ModeSettings

if TYPE_CHECKING:
    from ..schema import ExperimentConfig

__all__ = ["PartnerDeriver", "config_body", "deep_merge", "derive_config", "partner_config", "validate_body"]

class PartnerDeriver(Protocol):
    """What derives a partner's config body from the lead's: a :class:`~.base.Mode` class."""

    def derive_partner(self, data: dict[str, Any], settings: ModeSettings) -> dict[str, Any]: ...


#: fields a derived or loaded partner never takes over from a file: it belongs to the lead's trial
_PARTNER_DROPS = ("partner_config",)


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in: mappings merge key by key, lists and scalars replace.

    A list index key (``"0"``) in ``overrides`` merges into that item of a list in ``base``.

    >>> deep_merge({"a": {"b": 1, "c": 2}, "l": [{"x": 1}]}, {"a": {"b": 5}, "l": {"0": {"x": 2}}})
    {'a': {'b': 5, 'c': 2}, 'l': [{'x': 2}]}
    """
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)
        elif isinstance(current, list) and isinstance(value, dict) and all(k.isdigit() for k in value):
            items = list(current)
            for index, item in value.items():
                position = int(index)
                if position >= len(items):
                    raise ConfigError(f"partner_overrides.{key}.{index}: there is no item {index} "
                                      f"(the list has {len(items)})")
                items[position] = deep_merge(items[position], item) if isinstance(items[position], dict) \
                    and isinstance(item, dict) else copy.deepcopy(item)
            merged[key] = items
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def validate_body(data: dict[str, Any], source: str) -> ExperimentConfig:
    """The config body ``data`` validated (``source`` names it in errors)."""
    from ..schema import validate_config_dict

    return validate_config_dict(data, source)


def config_body(config: ExperimentConfig) -> dict[str, Any]:
    """``config`` as a JSON-like dict, without the keys only a lead file has."""
    data = config.model_dump(mode="json")
    for key in _PARTNER_DROPS:
        data.pop(key, None)
    return data


def _overrides(config: ExperimentConfig, settings: ModeSettings) -> dict[str, Any]:
    overrides = dict(getattr(config, "partner_overrides", None) or {})
    return deep_merge(overrides, settings.mapping("partner_overrides"))


def derive_config(lead: ExperimentConfig, body: dict[str, Any], settings: ModeSettings,
                  seat: str) -> ExperimentConfig:
    """The partner config ``body`` (derived or read) with the lead's ``partner_overrides`` merged in,
    validated, under the lead's ``experiment_id`` and seed."""
    body = deep_merge(body, _overrides(lead, settings))
    body["experiment_id"] = lead.experiment_id
    body["seed"] = lead.seed
    return validate_body(body, f"{seat}'s config (partner of experiment '{lead.experiment_id}')")


def partner_config(mode_class: PartnerDeriver, lead: ExperimentConfig, settings: ModeSettings,
                   partner: ExperimentConfig | None, seat: str) -> ExperimentConfig:
    """The config of ``lead``'s partner in seat ``seat``: ``partner`` (read from ``partner_config``) or one the
    mode derives from the lead's, with ``partner_overrides`` merged in."""
    body = config_body(partner) if partner is not None else mode_class.derive_partner(config_body(lead), settings)
    return derive_config(lead, body, settings, seat)
