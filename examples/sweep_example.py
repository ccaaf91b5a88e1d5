"""Runnable examples of sweeplab's Python API on the built-in "mind in a jar" experiment.

    python examples/sweep_example.py

Everything is written to a temporary folder, so running this leaves nothing behind. With the
simulated mind the whole script takes a few seconds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sweeplab import ExperimentSweep, SweepAnalyzer

REPO = Path(__file__).resolve().parents[1]
BASE = REPO / "experiments" / "examples" / "unstable_memory_moderate.json"
RATE = "interventions.0.parameters.corruption_rate"


def run_corruption_sweep(workdir: Path) -> str:
    """Example 1: sweep the corruption rate against the experiment length (5 x 2 = 10 trials)."""
    sweep = ExperimentSweep(
        base_config=str(BASE),
        sweep_params={RATE: [0.0, 0.25, 0.5, 0.75, 1.0], "max_cycles": [15, 20]},
        sweep_id="example_corruption",
        parallel_jobs=2,
        output_dir=str(workdir / "sweeps"),
        db_path=str(workdir / "experiments.db"),
    )
    results = sweep.run_all(verbose=False)
    print(f"ran {len(results)} trials")
    return sweep.sweep_id


def analyse(sweep_id: str, workdir: Path) -> None:
    """Example 2: what did the corruption rate do?"""
    analyzer = SweepAnalyzer(sweep_id, sweep_dir=str(workdir / "sweeps"))

    print("\nmemory trust by corruption rate:")
    for rate, values in analyzer.compare_by_parameter(RATE, "belief_memory_reliable_confidence").items():
        print(f"  {rate}: {', '.join(f'{v:.2f}' for v in values)}")

    print("\ntipping points (>= 30% change between neighbouring rates):")
    for before, after, change in analyzer.detect_threshold_effects(RATE, "belief_memory_reliable_confidence",
                                                                   threshold_change=0.3):
        print(f"  {before} -> {after}: {change:+.0%}")

    best, value = analyzer.find_optimal_parameters("crash_rate", minimize=True)
    print(f"\nlowest crash rate {value:.3f} with {best}")

    print("\n'trust' in self-reports:")
    for rate, stats in analyzer.analyze_belief_evolution(RATE, "trust").items():
        print(f"  {rate}: mentioned in {stats['mention_rate']:.0%} of answers")

    print()
    print(analyzer.generate_summary_report(metric="crash_rate", minimize=True))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sweeplab-example-") as tmp:
        workdir = Path(tmp)
        analyse(run_corruption_sweep(workdir), workdir)


if __name__ == "__main__":
    main()
