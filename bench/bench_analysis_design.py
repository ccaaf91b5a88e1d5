"""Benchmark: the designed-experiment model (type-II ANOVA with pairwise interactions and a replicate
block) of a 10,000-trial sweep, 3 parameters x 10 levels x 10 replicates, 5 metrics.

Compares, in the same run and interleaved, three ways of computing the same table:

* ``gram``: sweeplab as shipped — one X'X per design, sub-models solved on its blocks, X'X shared
  by the metrics measured on the same trials (``analysis.compute.design.analyze_design`` with a cache);
* ``lstsq``: refitting every sub-model on all rows with ``numpy.linalg.lstsq``;
* ``statsmodels``: ``ols(formula).fit()`` and ``anova_lm(typ=2)``.

It checks that the three give the same sums of squares (relative 1e-6).

    python bench/bench_analysis_design.py [--metrics 5] [--repeats 10]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
import warnings

import numpy as np
import pandas as pd

from sweeplab.analysis.compute import anova
from sweeplab.analysis.compute.design import analyze_design

LEVELS = 10


def _lstsq_fit(y: np.ndarray, x: np.ndarray) -> tuple[float, int]:
    coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coef
    return float(residual @ residual), int(rank)


class _LstsqGram:
    """Drop-in for anova._Gram that refits every sub-model on all rows (the straightforward way)."""

    def __init__(self, y: np.ndarray, x: np.ndarray, gram: np.ndarray | None = None) -> None:
        self.x, self.y = x, y - y.mean()
        self.gram = np.zeros((1, 1))

    def fit(self, columns: np.ndarray) -> tuple[float, int]:
        return _lstsq_fit(self.y, self.x[:, columns])


def build(repeats: int, metrics: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [{"a": a, "b": b, "c": c, "repeat": r} for r in range(repeats)
            for a, b, c in itertools.product(range(LEVELS), repeat=3)]
    frame = pd.DataFrame(rows)
    for p in "abc":
        frame[p] = frame[p].astype(object)
    for m in range(metrics):
        frame[f"m{m}"] = 0.1 * m * frame["a"].astype(float) + rng.normal(size=len(frame))
    return frame


def run_gram(frame: pd.DataFrame, metrics: list[str]) -> dict[str, dict[str, float]]:
    cache: dict = {}
    return {m: {t.term: t.sum_sq for t in analyze_design(frame, ["a", "b", "c"], m, cache=cache).terms}
            for m in metrics}


def run_lstsq(frame: pd.DataFrame, metrics: list[str]) -> dict[str, dict[str, float]]:
    original = anova._Gram
    anova._Gram = _LstsqGram  # type: ignore[misc]
    try:
        return {m: {t.term: t.sum_sq for t in analyze_design(frame, ["a", "b", "c"], m).terms} for m in metrics}
    finally:
        anova._Gram = original  # type: ignore[misc]


def run_statsmodels(frame: pd.DataFrame, metrics: list[str]) -> dict[str, dict[str, float]]:
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    names = {"C(a)": "a", "C(b)": "b", "C(c)": "c", "C(a):C(b)": "a × b", "C(a):C(c)": "a × c",
             "C(b):C(c)": "b × c", "C(repeat)": "replicate"}
    out = {}
    for m in metrics:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = smf.ols(f"{m} ~ C(a) + C(b) + C(c) + C(a):C(b) + C(a):C(c) + C(b):C(c) + C(repeat)",
                          data=frame).fit()
            table = anova_lm(fit, typ=2)
        out[m] = {names[k]: float(v) for k, v in table["sum_sq"].items() if k in names}
    return out


def machine() -> str:
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"nproc={os.cpu_count()}; CPU: {model}; Python {platform.python_version()}; load average at start: {load}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--skip-statsmodels", action="store_true")
    args = parser.parse_args(argv)
    print(machine())
    frame = build(args.repeats, args.metrics)
    metrics = [f"m{i}" for i in range(args.metrics)]
    print(f"sweep: {len(frame)} trials, 3 parameters x {LEVELS} levels x {args.repeats} replicates, "
          f"{args.metrics} metrics; model: 3 main effects, 3 pairwise interactions, replicate block")
    analyze_design(frame.head(200), ["a", "b", "c"], "m0")  # imports and warm-up
    ways = [("gram", run_gram), ("lstsq", run_lstsq)]
    if not args.skip_statsmodels:
        ways.append(("statsmodels", run_statsmodels))
    timings: dict[str, float] = {}
    results = {}
    for name, fn in ways:  # one after the other on the same frame
        start = time.perf_counter()
        results[name] = fn(frame, metrics)
        timings[name] = time.perf_counter() - start
        print(f"{name:12s}: {timings[name]:7.2f} s for {args.metrics} metrics "
              f"({timings[name] / args.metrics:.2f} s per metric)")
    reference = results["gram"]
    for name, result in results.items():
        for m in metrics:
            for term, ss in reference[m].items():
                other = result[m][term]
                if abs(other - ss) > 1e-6 * max(1.0, abs(ss)):
                    raise SystemExit(f"{name} differs from gram at {m} {term}: {other} vs {ss}")
    print("same sums of squares in every way: yes")
    for name in timings:
        if name != "gram":
            print(f"ratio {name} / gram: {timings[name] / timings['gram']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
