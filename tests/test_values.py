"""Value lists: literals, scalars, generators without drift, validation (sweeplab.planning.values)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeplab.errors import SpecError
from sweeplab.planning.json_data import MAX_DEPTH, json_problem
from sweeplab.planning.values import MAX_GENERATED, clean_float, expand_values

# --- literals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scalar", [3, 0.5, "adam", True, None])
def test_scalar_means_one_value(scalar: Any) -> None:
    assert expand_values("p", scalar) == [scalar]


def test_list_kept_in_order() -> None:
    assert expand_values("p", [3, 1, 2]) == [3, 1, 2]
    assert expand_values("p", [{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]


def test_empty_list_is_an_error() -> None:
    with pytest.raises(SpecError) as info:
        expand_values("max_cycles", [])
    assert "'max_cycles'" in str(info.value)
    assert "empty" in str(info.value)


@pytest.mark.parametrize("values", [[1, 2, 1], ["a", "a"], [0.5, 0.25, 0.5], [{"x": 1, "y": 2}, {"y": 2, "x": 1}],
                                    [[1, 2], [1, 2]]])
def test_duplicate_values_are_an_error(values: list[Any]) -> None:
    with pytest.raises(SpecError) as info:
        expand_values("lr", values)
    message = str(info.value)
    assert "'lr'" in message
    assert "twice" in message
    assert "repeats" in message  # how to fix: replicates are done with 'repeats'


# --- range generator ----------------------------------------------------------------------------

def test_range_has_no_floating_drift() -> None:
    values = expand_values("p", {"start": 0.0, "stop": 0.3, "step": 0.1})
    assert values == [0.0, 0.1, 0.2, 0.3]
    assert [repr(v) for v in values] == ["0.0", "0.1", "0.2", "0.3"]
    assert 0.1 * 3 != 0.3  # the drift being avoided


def test_range_stop_is_inclusive_only_when_reached() -> None:
    assert expand_values("p", {"start": 0, "stop": 10, "step": 5}) == [0, 5, 10]
    assert expand_values("p", {"start": 0, "stop": 10, "step": 3}) == [0, 3, 6, 9]
    assert expand_values("p", {"start": 0.0, "stop": 1.0, "step": 0.3}) == [0.0, 0.3, 0.6, 0.9]


def test_integer_range_gives_ints_and_mixed_gives_floats() -> None:
    ints = expand_values("p", {"start": 1, "stop": 4, "step": 1})
    assert ints == [1, 2, 3, 4] and all(type(v) is int for v in ints)
    floats = expand_values("p", {"start": 1.0, "stop": 3, "step": 1})
    assert floats == [1.0, 2.0, 3.0] and all(type(v) is float for v in floats)


def test_descending_range() -> None:
    assert expand_values("p", {"start": 1.0, "stop": 0.0, "step": -0.25}) == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_single_point_range() -> None:
    assert expand_values("p", {"start": 2, "stop": 2, "step": 1}) == [2]


@pytest.mark.parametrize("spec", [
    {"start": 0, "stop": 1, "step": 0},
    {"start": 0, "stop": 1, "step": -0.1},
    {"start": 1, "stop": 0, "step": 0.1},
])
def test_range_step_that_never_arrives(spec: dict[str, Any]) -> None:
    with pytest.raises(SpecError, match="step"):
        expand_values("p", spec)


@pytest.mark.parametrize(("spec", "fragment"), [
    ({"start": 0, "stop": 1}, "missing step"),
    ({"start": 0, "step": 1}, "missing stop"),
    ({"start": 0, "stop": 1, "step": 1, "count": 3}, "unknown keys count"),
])
def test_range_missing_or_unknown_keys(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(SpecError, match=fragment):
        expand_values("p", spec)


@pytest.mark.parametrize("bad", ["1", True, float("inf"), float("nan"), None, [1]])
def test_range_bounds_must_be_finite_numbers(bad: Any) -> None:
    with pytest.raises(SpecError, match="finite number"):
        expand_values("p", {"start": bad, "stop": 1, "step": 1})


def test_range_refuses_too_many_values() -> None:
    with pytest.raises(SpecError, match=str(MAX_GENERATED)):
        expand_values("p", {"start": 0, "stop": 1, "step": 1e-9})


def test_range_one_over_the_limit_reports_its_count() -> None:
    with pytest.raises(SpecError, match=str(MAX_GENERATED + 1)):
        expand_values("p", {"start": 0, "stop": MAX_GENERATED, "step": 1})


_DIGITS = st.integers(min_value=-10_000, max_value=10_000)


@settings(max_examples=200)
@given(start=_DIGITS, step=st.integers(min_value=1, max_value=500), count=st.integers(min_value=1, max_value=60),
       scale=st.integers(min_value=0, max_value=6), descending=st.booleans())
def test_range_values_equal_their_decimal_spelling(start: int, step: int, count: int, scale: int,
                                                   descending: bool) -> None:
    """Every generated value is the float of the exact decimal start + i * step: no drift."""
    if descending:
        step = -step
    d_start, d_step = Decimal(start).scaleb(-scale), Decimal(step).scaleb(-scale)
    d_stop = d_start + d_step * (count - 1)
    spec = {"start": float(d_start), "stop": float(d_stop), "step": float(d_step)}
    values = expand_values("p", spec)
    expected = [float(d_start + d_step * i) for i in range(count)]
    assert values == expected
    # printed as the short decimal a person would write
    for i, value in enumerate(values):
        assert Decimal(repr(value)) == d_start + d_step * i


@settings(max_examples=100)
@given(start=_DIGITS, step=st.integers(min_value=1, max_value=50), count=st.integers(min_value=1, max_value=40))
def test_integer_range_is_python_range(start: int, step: int, count: int) -> None:
    stop = start + step * (count - 1)
    assert expand_values("p", {"start": start, "stop": stop, "step": step}) == list(range(start, stop + 1, step))


# --- linspace / logspace ------------------------------------------------------------------------

def test_linspace_eleven_points() -> None:
    values = expand_values("p", {"linspace": [0, 1, 11]})
    assert values == [i / 10 for i in range(11)]
    assert repr(values[3]) == "0.3"
    assert all(type(v) is float for v in values)


def test_linspace_ends_exactly_at_stop() -> None:
    assert expand_values("p", {"linspace": [1, 1e-5, 2]}) == [1.0, 1e-5]
    assert expand_values("p", {"linspace": [0.9, 1e-6, 4]})[-1] == 1e-6


_HUMAN = st.builds(lambda n, places: float(Decimal(n).scaleb(-places)), st.integers(-10**7, 10**7),
                   st.integers(0, 6))


@settings(max_examples=200)
@given(start=_HUMAN, stop=_HUMAN, count=st.integers(2, 200))
def test_linspace_end_points_exact_for_written_numbers(start: float, stop: float, count: int) -> None:
    """Numbers as people write them (up to 6 decimals) come back exactly at both ends."""
    try:
        values = expand_values("p", {"linspace": [start, stop, count]})
    except SpecError as exc:
        assert "twice" in str(exc)
        return
    assert values[0] == start
    assert values[-1] == stop


def test_linspace_first_point_is_clean_start() -> None:
    start = 932068.1920375001
    assert expand_values("p", {"linspace": [start, 0.0, 37]})[0] == clean_float(start)


def test_linspace_single_point() -> None:
    assert expand_values("p", {"linspace": [2.5, 7, 1]}) == [2.5]


def test_logspace() -> None:
    assert expand_values("p", {"logspace": [-3, 0, 4]}) == [0.001, 0.01, 0.1, 1.0]
    assert expand_values("p", {"logspace": [-2, 0, 3]}) == [0.01, 0.1, 1.0]


@pytest.mark.parametrize("raw", [
    {"linspace": [0, 1]},
    {"linspace": "0 1 3"},
    {"linspace": [0, 1, 0]},
    {"linspace": [0, 1, 2.5]},
    {"linspace": [0, 1, True]},
    {"logspace": [0, "x", 3]},
    {"linspace": [0, 1, MAX_GENERATED + 1]},
])
def test_bad_linspace_logspace(raw: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as info:
        expand_values("lr", raw)
    assert "'lr'" in str(info.value)


def test_logspace_overflow_is_a_spec_error() -> None:
    with pytest.raises(SpecError):
        expand_values("lr", {"logspace": [0, 400, 3]})


@settings(max_examples=150)
@given(start=st.floats(-1e6, 1e6), stop=st.floats(-1e6, 1e6), count=st.integers(2, 200))
def test_linspace_properties(start: float, stop: float, count: int) -> None:
    try:
        values = expand_values("p", {"linspace": [start, stop, count]})
    except SpecError as exc:  # points closer than 12 significant digits collapse into duplicates
        assert "twice" in str(exc)
        return
    assert len(values) == count
    tolerance = 1e-9 * max(abs(start), abs(stop))
    assert math.isclose(values[0], start, rel_tol=1e-9, abs_tol=tolerance)
    assert math.isclose(values[-1], stop, rel_tol=1e-9, abs_tol=tolerance)
    ordered = values if stop >= start else values[::-1]
    assert ordered == sorted(ordered)


def test_unknown_mapping_lists_generator_forms() -> None:
    with pytest.raises(SpecError) as info:
        expand_values("lr", {"from": 0, "to": 1})
    message = str(info.value)
    assert "linspace" in message and "logspace" in message and "start" in message
    assert "from" in message


def test_empty_mapping_is_an_error() -> None:
    with pytest.raises(SpecError, match="generator"):
        expand_values("lr", {})


def test_clean_float() -> None:
    assert clean_float(0.1 * 3) == 0.3
    assert clean_float(1 / 3) == 0.333333333333
    assert clean_float(2.0) == 2.0


# --- values are bounded JSON data (issue 11, item 2) ----------------------------------------------

@pytest.mark.parametrize(("raw", "fragments"), [
    ([0.1, float("nan")], ["value 2 (nan)", "is NaN"]),
    ([1.0, float("inf")], ["value 2 (inf)", "is infinity", "1e9"]),
    (float("-inf"), ["the value -inf", "is -infinity"]),
    ([{"lr": 0.1}, {"lr": [1, float("nan")]}], ["value 2", "at 'lr[1]'", "is NaN"]),
    ({"start": 0.0, "stop": float("inf"), "step": 1.0}, ["'stop' of its generator", "infinity"]),
    ([2**63], ["value 1", "64 bits"]),
    ([-(2**63) - 1], ["value 1", "64 bits"]),
    (["ok", "bad\ud800"], ["value 2", "not valid Unicode", "'\\ud800'"]),
    ([{1: "a"}], ["value 1", "has the key 1 (int)", "must be text"]),
    ([{"a": {(1, 2): 3}}], ["at 'a'", "tuple"]),
    ([b"bytes"], ["bytes", "not JSON data"]),
    ([{1, 2}], ["set", "not JSON data"]),
])
def test_values_that_are_not_bounded_json_are_refused(raw: Any, fragments: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        expand_values("p", raw)
    message = str(info.value)
    assert message.startswith("sweep parameter 'p': ")
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 1.7976931348623157e308, 5e-324, "", "ü∑😀", None, True,
                                   {"a": [1, {"b": None}]}])
def test_values_at_the_edges_are_accepted(value: Any) -> None:
    assert expand_values("p", [value]) == [value]


def test_nesting_is_bounded() -> None:
    def nested(levels: int) -> Any:
        value: Any = 1
        for _ in range(levels):
            value = [value]
        return value
    assert expand_values("p", [nested(MAX_DEPTH - 1)])  # the value list itself is one level
    with pytest.raises(SpecError, match=f"nested more than {MAX_DEPTH} levels"):
        expand_values("p", [nested(MAX_DEPTH)])


def test_a_value_that_contains_itself_is_reported_not_a_recursion_error() -> None:
    looped: list[Any] = [1]
    looped.append(looped)  # only the Python API can build one
    with pytest.raises(SpecError, match="nested more than"):
        expand_values("p", [looped])


def test_huge_integer_message_does_not_print_it() -> None:
    with pytest.raises(SpecError) as info:
        expand_values("p", [10**5000])  # str() of it is refused by Python itself
    assert "about 5001 digits" in str(info.value) and len(str(info.value)) < 400


def test_json_problem_names_the_location() -> None:
    found = json_problem({"a": [0, {"b": float("nan")}]})
    assert found is not None
    assert found.location == "a[1].b" and math.isnan(found.part) and found.problem.startswith("is NaN")
    assert json_problem({"a": [0, {"b": 1.5}]}) is None
