"""Machine detection and the parallelism decision (sweeplab.engine.resources)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweeplab.engine.resources import (
    AUTO_MEMORY_FRACTION,
    GIB,
    JETSON_MAX_PARALLEL,
    Machine,
    decide_budget,
    detect_jetson,
    detect_machine,
)

ORIN = "NVIDIA Jetson AGX Orin Developer Kit"


def _fake_root(tmp_path: Path, *, model: bytes | None = None, release: bool = False) -> Path:
    if model is not None:
        (tmp_path / "proc/device-tree").mkdir(parents=True)
        (tmp_path / "proc/device-tree/model").write_bytes(model)
    if release:
        (tmp_path / "etc").mkdir(parents=True)
        (tmp_path / "etc/nv_tegra_release").write_text("# R35 (release), REVISION: 4.1, GCID: 33958178\n")
    return tmp_path


# --- detect_jetson ------------------------------------------------------------------------------

def test_no_jetson_on_empty_root(tmp_path: Path) -> None:
    assert detect_jetson(tmp_path) is None


def test_model_file_with_nul_terminator(tmp_path: Path) -> None:
    root = _fake_root(tmp_path, model=b"NVIDIA Jetson AGX Orin\x00")
    assert detect_jetson(root) == "NVIDIA Jetson AGX Orin"


def test_model_and_release(tmp_path: Path) -> None:
    root = _fake_root(tmp_path, model=ORIN.encode() + b"\x00", release=True)
    assert detect_jetson(root) == ORIN


def test_release_file_only(tmp_path: Path) -> None:
    name = detect_jetson(_fake_root(tmp_path, release=True))
    assert name is not None and "Jetson" in name


def test_other_board_model_is_not_jetson(tmp_path: Path) -> None:
    assert detect_jetson(_fake_root(tmp_path, model=b"Raspberry Pi 4 Model B Rev 1.4\x00")) is None


def test_orin_without_jetson_word(tmp_path: Path) -> None:
    assert detect_jetson(_fake_root(tmp_path, model=b"NVIDIA Orin Nano\x00")) == "NVIDIA Orin Nano"


def test_undecodable_model_does_not_crash(tmp_path: Path) -> None:
    assert detect_jetson(_fake_root(tmp_path, model=b"\xff\xfe\x00")) is None


def test_detect_machine_on_this_host(tmp_path: Path) -> None:
    machine = detect_machine(tmp_path)
    assert machine.cpus >= 1
    assert machine.total_memory > 256 * 1024 ** 2
    assert machine.jetson_model is None and not machine.is_jetson
    jetson = detect_machine(_fake_root(tmp_path, model=ORIN.encode()))
    assert jetson.is_jetson and jetson.jetson_model == ORIN


# --- decide_budget ------------------------------------------------------------------------------

DESKTOP = Machine(total_memory=32 * GIB, cpus=16)
ORIN_64 = Machine(total_memory=64 * GIB, cpus=12, jetson_model=ORIN)


def test_constants() -> None:
    assert AUTO_MEMORY_FRACTION == 0.70
    assert JETSON_MAX_PARALLEL == 4


def test_auto_uses_cores_and_seventy_percent_ram() -> None:
    budget = decide_budget("auto", DESKTOP)
    assert budget.slots == 16
    assert budget.memory_bytes == int(32 * GIB * 0.70)
    assert budget.cpus == 16
    assert not budget.jetson
    text = "; ".join(budget.reasons)
    assert "70%" in text and "22.4 GB" in text and "16 cores" in text


def test_auto_divides_cores_by_threads_per_trial() -> None:
    assert decide_budget("auto", DESKTOP, trial_cpus=4).slots == 4
    assert decide_budget("auto", DESKTOP, trial_cpus=64).slots == 1


@pytest.mark.parametrize(("memory_gb", "slots"), [(1, 16), (4, 5), (8, 2), (16, 1), (100, 1)])
def test_auto_limited_by_trial_memory(memory_gb: float, slots: int) -> None:
    budget = decide_budget("auto", DESKTOP, trial_memory_gb=memory_gb)
    assert budget.slots == slots  # 22.4 GB budget / memory per trial, at least one
    if slots < 16:
        assert any(f"{memory_gb:g} GB per trial" in reason for reason in budget.reasons)


def test_auto_on_jetson_is_capped_at_four() -> None:
    budget = decide_budget("auto", ORIN_64)
    assert budget.slots == JETSON_MAX_PARALLEL
    assert budget.jetson
    assert any("Jetson" in reason and ORIN in reason for reason in budget.reasons)


@pytest.mark.parametrize(("memory_gb", "slots"), [(2, 4), (8, 4), (16, 2), (32, 1)])
def test_auto_on_jetson_by_trial_memory(memory_gb: float, slots: int) -> None:
    # 64 GB x 70 % = 44.8 GB: 2 GB → 22 (capped 4), 8 → 5 (capped 4), 16 → 2, 32 → 1
    assert decide_budget("auto", ORIN_64, trial_memory_gb=memory_gb).slots == slots


def test_jetson_forced_on_other_machine() -> None:
    budget = decide_budget("auto", DESKTOP, jetson_forced=True)
    assert budget.slots == JETSON_MAX_PARALLEL and budget.jetson
    assert any("forced" in reason for reason in budget.reasons)


@pytest.mark.parametrize("parallel", [1, 3, 64])
def test_explicit_count_is_kept(parallel: int) -> None:
    budget = decide_budget(parallel, DESKTOP)
    assert budget.slots == parallel
    assert budget.cpus is None
    assert budget.memory_bytes == int(32 * GIB * 0.70)
    assert any("as asked" in reason for reason in budget.reasons)


def test_explicit_count_ignores_trial_needs() -> None:
    assert decide_budget(8, DESKTOP, trial_memory_gb=16, trial_cpus=8).slots == 8


@pytest.mark.parametrize(("parallel", "slots"), [(2, 2), (4, 4), (8, 4)])
def test_explicit_count_capped_on_jetson(parallel: int, slots: int) -> None:
    budget = decide_budget(parallel, ORIN_64)
    assert budget.slots == slots
    if parallel > JETSON_MAX_PARALLEL:
        assert any("capped at 4" in reason for reason in budget.reasons)


def test_small_machine() -> None:
    budget = decide_budget("auto", Machine(total_memory=2 * GIB, cpus=1), trial_memory_gb=4)
    assert budget.slots == 1


def test_auto_sizes_the_labs_full_factorial_by_what_a_trial_really_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its configs declare cpu_threads: 2, but the simulated mind is one Python thread: 2 slots on 2 cores."""
    from sweeplab.engine import resources
    from sweeplab.planning.resolve import resolve
    from sweeplab.planning.spec import load_spec

    root = Path(__file__).resolve().parents[1]
    spec_path = root / "sweeps" / "full_factorial_sweep.yaml"
    monkeypatch.chdir(root)
    monkeypatch.setattr(resources, "detect_machine", lambda: Machine(total_memory=24 * GIB, cpus=2))
    sweep = resolve(load_spec(spec_path).model_copy(update={"parallel": "auto"}), spec_dir=spec_path.parent)
    budget = resources.budget_for(sweep)
    assert budget.slots == 2 and budget.cpus == 2
    assert any("1 busy thread(s) per trial (the phenomenology runner's need; the configs declare up to 2)" in reason
               for reason in budget.reasons), budget.reasons


# --- cluster_budget: the lookahead ---------------------------------------------------------------

class _Cluster:
    """An executor's capacity as a Dask cluster of ``threads`` worker threads reports it."""

    def __init__(self, threads: int) -> None:
        from sweeplab.executors.base import Capacity

        self.capacity = Capacity(slots=threads, memory_bytes=8 * GIB, cpus=threads)
        self.address = "tcp://127.0.0.1:8786"


def _cluster_sweep(parallel: int | str, strategy: str = "grid", max_failures: int = 5):  # noqa: ANN202
    from types import SimpleNamespace

    return SimpleNamespace(spec=SimpleNamespace(dask_scheduler="tcp://127.0.0.1:8786", parallel=parallel,
                                                strategy=strategy, max_failures=max_failures))


@pytest.mark.parametrize(("parallel", "slots", "ahead", "refill"),
                         [("auto", 4, 36, 16), (4, 4, 36, 16), (6, 6, 34, 16), (30, 30, 10, 10), (39, 39, 1, 1),
                          (40, 40, 0, 1), (3, 3, 0, 1), (1, 1, 0, 1)])
def test_a_cluster_gets_trials_waiting_four_per_thread_at_a_time_only_when_its_threads_cap_what_runs(
        parallel: int | str, slots: int, ahead: int, refill: int) -> None:
    from sweeplab.engine.resources import cluster_budget

    budget = cluster_budget(_cluster_sweep(parallel), _Cluster(threads=4))  # type: ignore[arg-type]
    assert (budget.slots, budget.ahead, budget.refill) == (slots, ahead, refill)
    said = [reason for reason in budget.reasons if "submitted ahead" in reason]
    expected = (f"+{ahead} submitted ahead, queued on the scheduler for the next free worker thread, "
                f"{refill} at a time")
    assert said == ([expected] if ahead else [])
    assert budget.ahead_after == (5 if ahead else 0)  # the fail-fast attempts run without it


@pytest.mark.parametrize("strategy", ["bayesian", "refine"])
def test_a_search_on_a_cluster_submits_nothing_ahead(strategy: str) -> None:
    from sweeplab.engine.resources import cluster_budget

    budget = cluster_budget(_cluster_sweep("auto", strategy=strategy), _Cluster(threads=4))  # type: ignore[arg-type]
    assert budget.slots == 4 and budget.ahead == 0
