"""Dot paths: get/set on nested dicts and lists, explanatory errors, no mutation (sweeplab.planning.dotpaths)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeplab.errors import PathError, SpecError
from sweeplab.planning.dotpaths import get_path, has_path, set_path, split_path

DOC: dict[str, Any] = {
    "max_cycles": 20,
    "resource_constraints": {"ram_limit_gb": 4.0, "cpu_threads": 2},
    "interventions": [
        {"type": "memory", "parameters": {"corruption_rate": 0.25}},
        {"type": "ram", "parameters": {"limit": 1}},
    ],
    "self_report_schedule": {"every_n_cycles": 5},
}


# --- split_path ---------------------------------------------------------------------------------

def test_split_path_splits_on_dots() -> None:
    assert split_path("interventions.0.parameters.corruption_rate") == (
        "interventions", "0", "parameters", "corruption_rate")
    assert split_path("max_cycles") == ("max_cycles",)


@pytest.mark.parametrize("bad", ["", "a..b", ".a", "a.", "."])
def test_split_path_rejects_empty_segments(bad: str) -> None:
    with pytest.raises(PathError) as info:
        split_path(bad)
    assert repr(bad) in str(info.value)


def test_path_error_is_a_spec_error() -> None:
    with pytest.raises(SpecError):
        split_path("")


# --- get_path -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "expected"), [
    ("max_cycles", 20),
    ("resource_constraints.ram_limit_gb", 4.0),
    ("interventions.0.parameters.corruption_rate", 0.25),
    ("interventions.1.type", "ram"),
    ("interventions.1", {"type": "ram", "parameters": {"limit": 1}}),
    ("self_report_schedule.every_n_cycles", 5),
])
def test_get_path_walks_mappings_and_lists(path: str, expected: Any) -> None:
    assert get_path(DOC, path) == expected
    assert has_path(DOC, path)


def test_missing_key_names_longest_prefix_keys_and_closest_match() -> None:
    with pytest.raises(PathError) as info:
        get_path(DOC, "interventions.0.parameters.corruption_rat")
    message = str(info.value)
    assert "'interventions.0.parameters.corruption_rat'" in message
    assert "'interventions.0.parameters'" in message          # longest existing prefix
    assert "keys: corruption_rate" in message                  # the keys that exist there
    assert "did you mean 'corruption_rate'" in message         # closest match
    assert not has_path(DOC, "interventions.0.parameters.corruption_rat")


def test_missing_top_level_key_says_top_level() -> None:
    with pytest.raises(PathError) as info:
        get_path(DOC, "max_cycle")
    message = str(info.value)
    assert "the top level" in message
    assert "did you mean 'max_cycles'" in message
    assert "resource_constraints" in message


def test_list_index_out_of_range_names_length() -> None:
    with pytest.raises(PathError) as info:
        get_path(DOC, "interventions.5.type")
    message = str(info.value)
    assert "'interventions'" in message
    assert "list of length 2" in message
    assert "'5'" in message


@pytest.mark.parametrize("segment", ["-1", "first", "x"])
def test_non_numeric_list_index_is_an_error(segment: str) -> None:
    with pytest.raises(PathError, match="not a valid index"):
        get_path(DOC, f"interventions.{segment}.type")


@pytest.mark.parametrize("segment", ["²", "١", "０", " 1", "+1"])
def test_index_in_other_digits_is_an_error_not_a_crash(segment: str) -> None:
    # '²'.isdigit() is True, and int('²') raises ValueError: only ASCII digits are an index
    with pytest.raises(PathError, match="not a valid index"):
        get_path(DOC, f"interventions.{segment}.type")
    with pytest.raises(PathError, match="not a valid index"):
        set_path(DOC, f"interventions.{segment}", 1)


@pytest.mark.parametrize(("segment", "written"), [("01", "1"), ("00", "0"), ("0001", "1")])
def test_index_with_leading_zeros_says_how_to_write_it(segment: str, written: str) -> None:
    """'items.01' and 'items.1' would be two parameters that set one element."""
    with pytest.raises(PathError) as info:
        get_path(DOC, f"interventions.{segment}.type")
    assert f"'{segment}' is not a valid index (write it as {written})" in str(info.value)


def test_huge_index_is_out_of_range() -> None:
    with pytest.raises(PathError, match="not a valid index"):
        get_path(DOC, "interventions." + "9" * 5000)


def test_index_zero_is_valid() -> None:
    assert get_path(DOC, "interventions.0.type") == "memory"


def test_descending_into_a_scalar_is_an_error() -> None:
    with pytest.raises(PathError) as info:
        get_path(DOC, "max_cycles.value")
    message = str(info.value)
    assert "'max_cycles'" in message
    assert "20" in message


def test_empty_containers_are_described() -> None:
    with pytest.raises(PathError, match="empty mapping"):
        get_path({"a": {}}, "a.b")
    with pytest.raises(PathError, match="empty list"):
        get_path({"a": []}, "a.0")


# --- set_path -----------------------------------------------------------------------------------

def test_set_path_returns_new_document_and_keeps_the_original() -> None:
    before = copy.deepcopy(DOC)
    result = set_path(DOC, "interventions.0.parameters.corruption_rate", 0.9)
    assert get_path(result, "interventions.0.parameters.corruption_rate") == 0.9
    assert DOC == before
    # everything else is as it was
    assert get_path(result, "interventions.1") == DOC["interventions"][1]
    assert result["max_cycles"] == 20


def test_set_path_in_list() -> None:
    doc = {"a": {"b": [1, 2]}}
    assert set_path(doc, "a.b.1", 5) == {"a": {"b": [1, 5]}}
    assert doc == {"a": {"b": [1, 2]}}


def test_set_path_replaces_whole_subtree() -> None:
    result = set_path(DOC, "resource_constraints", {"ram_limit_gb": 8.0})
    assert result["resource_constraints"] == {"ram_limit_gb": 8.0}
    assert DOC["resource_constraints"]["cpu_threads"] == 2


def test_new_key_refused_without_policy() -> None:
    with pytest.raises(PathError) as info:
        set_path(DOC, "resource_constraints.gpu_count", 1)
    message = str(info.value)
    assert "'resource_constraints'" in message
    assert "gpu_count" in message
    assert "runner" in message  # says who may allow new keys


def test_new_key_refusal_names_the_runner_policy() -> None:
    with pytest.raises(PathError) as info:
        set_path(DOC, "max_cycle", 3, new_keys=lambda where, key: False, policy_name="phenomenology")
    message = str(info.value)
    assert "phenomenology" in message
    assert "did you mean 'max_cycles'" in message


def test_new_key_allowed_by_policy_receives_the_mapping_path() -> None:
    seen: list[tuple[tuple[str, ...], str]] = []

    def policy(where: tuple[str, ...], key: str) -> bool:
        seen.append((where, key))
        return True

    result = set_path(DOC, "interventions.0.parameters.new_knob", 7, new_keys=policy, policy_name="command")
    assert result["interventions"][0]["parameters"]["new_knob"] == 7
    assert seen == [(("interventions", "0", "parameters"), "new_knob")]
    assert "new_knob" not in DOC["interventions"][0]["parameters"]


def test_new_keys_only_at_the_leaf() -> None:
    """A missing intermediate key is an error even when new keys are allowed."""
    with pytest.raises(PathError, match="no key 'missing'"):
        set_path(DOC, "missing.child", 1, new_keys=lambda where, key: True)


def test_new_list_elements_are_never_created() -> None:
    with pytest.raises(PathError, match="list of length 2"):
        set_path(DOC, "interventions.2", {}, new_keys=lambda where, key: True)


# --- properties ---------------------------------------------------------------------------------

_KEYS = st.text(alphabet=st.characters(blacklist_characters=".", blacklist_categories=("Cs",)), min_size=1,
                max_size=8)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
_JSON = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=12,
)
_DOCS = st.dictionaries(_KEYS, _JSON, min_size=1, max_size=5)


def _all_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    paths: list[str] = []
    if isinstance(node, dict):
        children = [(str(k), v) for k, v in node.items()]
    elif isinstance(node, list):
        children = [(str(i), v) for i, v in enumerate(node)]
    else:
        return paths
    for segment, child in children:
        here = (*prefix, segment)
        paths.append(".".join(here))
        paths.extend(_all_paths(child, here))
    return paths


@settings(max_examples=100)
@given(doc=_DOCS, value=_JSON, data=st.data())
def test_set_then_get_returns_value_and_never_mutates(doc: dict[str, Any], value: Any, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_all_paths(doc)), label="path")
    before = copy.deepcopy(doc)
    result = set_path(doc, path, value)
    assert get_path(result, path) == value
    assert doc == before                               # the base document is untouched


@settings(max_examples=80)
@given(doc=_DOCS, value=_SCALARS, data=st.data())
def test_set_leaves_other_paths_alone(doc: dict[str, Any], value: Any, data: st.DataObject) -> None:
    paths = _all_paths(doc)
    path = data.draw(st.sampled_from(paths), label="path")
    result = set_path(doc, path, value)
    for other in paths:
        unrelated = not (other == path or other.startswith(path + ".") or path.startswith(other + "."))
        if unrelated:
            assert get_path(result, other) == get_path(doc, other)


@settings(max_examples=80)
@given(doc=_DOCS, key=_KEYS, value=_SCALARS)
def test_new_top_level_key_with_open_policy(doc: dict[str, Any], key: str, value: Any) -> None:
    before = copy.deepcopy(doc)
    result = set_path(doc, key, value, new_keys=lambda where, k: True)
    assert get_path(result, key) == value
    assert doc == before


@settings(max_examples=80)
@given(doc=_DOCS, key=_KEYS)
def test_missing_path_error_names_the_path(doc: dict[str, Any], key: str) -> None:
    if key in doc:
        return
    with pytest.raises(PathError) as info:
        get_path(doc, key)
    assert f"'{key}'" in str(info.value)
    assert not has_path(doc, key)
