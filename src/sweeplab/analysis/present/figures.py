"""Draw a sweep's figures from its plot data JSON (``plot_data.json``).

This module is deliberately standalone: it imports only the standard library and
matplotlib, because ``sweeplab analyze --viz-script`` copies its source verbatim into a
script that regenerates the figures on a machine without sweeplab:

    python plot_sweep.py [plot_data.json] [--out figures/]

One PNG per parameter and metric in the data (mean with its 95 % interval, min-max band, a
supported step and its interval) and one heatmap per pair of parameters and metric. A null level
of a numeric parameter is drawn one step right of the largest number, labelled ``null``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

__all__ = ["metric_unit", "figure_name", "draw_metric", "draw_heatmap", "plot_metric", "plot_heatmap", "render_all",
           "main"]


def metric_unit(metric: str) -> str:
    """A best guess at a metric's unit from its name (sweeps store no units)."""
    name = metric.split(":", 1)[-1]
    if name == "duration" or name.endswith("_seconds"):
        return "s"
    if "_per_" in name:
        left, right = name.split("_per_", 1)
        return f"{left.split('_')[-1]} / {right}"
    if name.startswith(("total_", "num_", "n_")) or name.endswith("_count") or name.startswith("corrupted_"):
        return "count"
    if name.endswith("_confidence"):
        return "confidence, 0-1"
    if name.endswith("_rate"):
        return "rate"
    return ""


def _axis_label(metric: str) -> str:
    unit = metric_unit(metric)
    return f"{metric} ({unit})" if unit else metric


def figure_name(*parts: str) -> str:
    """A file name from parts: anything but letters, digits, '-', '.' and '_' becomes '_'."""
    return "__".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", p) for p in parts) + ".png"


def _new_figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _x_positions(values: list[Any], numeric: bool) -> list[float]:
    """Positions on the x axis: numbers at their value, a null level one step right of the largest
    (a numeric parameter may have a null level, e.g. ``max_depth: [2, null, 8]``); categories by index."""
    if not numeric:
        return [float(i) for i in range(len(values))]
    numbers = sorted(float(v) for v in values if v is not None)
    if not numbers:
        return [float(i) for i in range(len(values))]
    gap = (numbers[-1] - numbers[0]) / max(len(numbers) - 1, 1) or 1.0
    return [numbers[-1] + gap if v is None else float(v) for v in values]


def _level_label(value: Any) -> str:
    return "null" if value is None else str(value)


def draw_metric(data: dict[str, Any], parameter: str, metric: str) -> Any:
    """The figure of ``metric``'s mean per level of ``parameter`` with its 95 % interval (not saved)."""
    info = data["parameter_info"][parameter]
    entry = data["by_parameter"][parameter][metric]
    values = entry["values"]
    numeric = bool(info["numeric"])
    x = _x_positions(values, numeric)
    # Draw left to right: a line between the points must follow the axis, whatever the level order.
    order = sorted(range(len(x)), key=lambda i: x[i])
    x, values = [x[i] for i in order], [values[i] for i in order]
    pick = {key: [entry[key][i] for i in order] for key in ("means", "mins", "maxs", "ci_low", "ci_high", "counts")}
    means = [_nan(v) for v in pick["means"]]
    fig = _new_figure(7.0, 4.4)
    ax = fig.add_subplot()
    mins, maxs = [_nan(v) for v in pick["mins"]], [_nan(v) for v in pick["maxs"]]
    ax.fill_between(x, mins, maxs, color="tab:blue", alpha=0.12, label="min-max of trials")
    lows = [m - _nan(lo) if lo is not None else 0.0 for m, lo in zip(means, pick["ci_low"])]
    highs = [_nan(hi) - m if hi is not None else 0.0 for m, hi in zip(means, pick["ci_high"])]
    positive = [v for v, value in zip(x, values) if value is not None]
    log_x = numeric and bool(positive) and min(positive) > 0 and max(positive) / min(positive) >= 100
    has_null = numeric and any(v is None for v in values)
    # categories have no order, and a null level is no point on the number line: no line to them
    connect = [i for i, v in enumerate(values) if v is not None] if numeric else []
    ax.errorbar(x, means, yerr=[lows, highs], fmt="o", color="tab:blue", capsize=4,
                label=f"mean with {entry.get('interval_label', '95% CI')}")
    if len(connect) > 1:
        ax.plot([x[i] for i in connect], [means[i] for i in connect], "-", color="tab:blue", linewidth=1.5)
    position = dict(zip(map(json.dumps, values), x))
    cp = entry.get("change_point")
    if cp and cp.get("supported") and numeric and cp.get("kind", "step") == "step" and cp.get("before") is not None \
            and cp.get("after") is not None and json.dumps(cp["interval_low"]) in position \
            and json.dumps(cp["interval_high"]) in position:
        lo, hi = position[json.dumps(cp["interval_low"])], position[json.dumps(cp["interval_high"])]
        ax.axvspan(lo, hi, color="tab:orange", alpha=0.15, label="95% interval of the step")
        left, right = position[json.dumps(cp["before"])], position[json.dumps(cp["after"])]
        mid = math.sqrt(left * right) if log_x else (left + right) / 2
        ax.axvline(mid, color="tab:orange", linestyle="--", linewidth=1.5,
                   label=f"step ({cp['before']} to {cp['after']})")
    if log_x and not has_null:
        ax.set_xscale("log")
    if not numeric or has_null:
        ax.set_xticks(x, [_level_label(v) for v in values], rotation=30 if len(values) > 6 else 0)
    label = info["label"] if info["label"] == parameter else f"{info['label']}  ({parameter})"
    ax.set_xlabel(label)
    ax.set_ylabel(_axis_label(metric))
    p = entry.get("omnibus_p")
    test = f"{entry.get('omnibus_test', 'test')} p={p:.3g}" if p is not None else str(entry.get("omnibus_test", ""))
    shape = entry.get("shape") or {}
    if shape.get("shape") == "gradual":
        test += f"; gradual ({shape.get('model')})"
    elif shape.get("shape") == "step":
        test += "; step"
    total = sum(c or 0 for c in pick["counts"])
    title = f"{metric} vs {info['label']}"
    if data.get("partial"):
        title += "  [PARTIAL: sweep not complete]"
    ax.set_title(f"{title}\n{data['sweep_id']}: n={total} completed trials, {test}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return fig


def plot_metric(data: dict[str, Any], parameter: str, metric: str, out_dir: Path) -> Path:
    """Save :func:`draw_metric`'s figure into ``out_dir``; return its path."""
    path = out_dir / figure_name(parameter, metric)
    draw_metric(data, parameter, metric).savefig(path)
    return path


def draw_heatmap(data: dict[str, Any], interaction: dict[str, Any]) -> Any:
    """Heatmap of the mean metric over a pair of parameters (not saved); cells without data stay blank."""
    import numpy as np

    rows, cols, metric = interaction["rows"], interaction["columns"], interaction["metric"]
    means = np.array([[_nan(v) for v in row] for row in interaction["means"]], dtype=float)
    fig = _new_figure(1.6 + 0.75 * max(4, len(interaction["column_values"])),
                      1.6 + 0.45 * max(4, len(interaction["row_values"])))
    ax = fig.add_subplot()
    image = ax.imshow(np.ma.masked_invalid(means), aspect="auto", cmap="viridis", origin="lower")
    fig.colorbar(image, ax=ax, label=f"mean {_axis_label(metric)}")
    ax.set_xticks(range(len(interaction["column_values"])), [_level_label(v) for v in interaction["column_values"]])
    ax.set_yticks(range(len(interaction["row_values"])), [_level_label(v) for v in interaction["row_values"]])
    ax.set_xlabel(data["parameter_info"][cols]["label"])
    ax.set_ylabel(data["parameter_info"][rows]["label"])
    if means.size <= 144:
        finite = means[np.isfinite(means)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
        for i in range(means.shape[0]):
            for j in range(means.shape[1]):
                if math.isfinite(means[i, j]):
                    ax.text(j, i, f"{means[i, j]:.3g}", ha="center", va="center", fontsize=7,
                            color="white" if means[i, j] < middle else "black")
    title = f"{metric}: {data['parameter_info'][rows]['label']} x {data['parameter_info'][cols]['label']}"
    if data.get("partial"):
        title += "  [PARTIAL]"
    ax.set_title(title, fontsize=10)
    return fig


def plot_heatmap(data: dict[str, Any], interaction: dict[str, Any], out_dir: Path) -> Path:
    """Save :func:`draw_heatmap`'s figure into ``out_dir``; return its path."""
    path = out_dir / figure_name("heatmap", interaction["rows"], interaction["columns"], interaction["metric"])
    draw_heatmap(data, interaction).savefig(path)
    return path


def render_all(data: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write every figure of ``data`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [plot_metric(data, p, m, out_dir) for p in data["by_parameter"] for m in data["by_parameter"][p]]
    written += [plot_heatmap(data, inter, out_dir) for inter in data.get("interactions", [])]
    return written


def main(argv: list[str] | None = None) -> int:
    """Regenerate the figures from a plot data JSON file."""
    parser = argparse.ArgumentParser(description="Draw a sweep's figures from its plot_data.json.")
    here = Path(__file__).resolve().parent
    parser.add_argument("plot_data", nargs="?", default=str(here / "plot_data.json"))
    parser.add_argument("--out", default=None, help="folder for the PNG files (default: figures/ beside the data)")
    args = parser.parse_args(argv)
    source = Path(args.plot_data)
    data = json.loads(source.read_text(encoding="utf-8"))
    out_dir = Path(args.out) if args.out else source.resolve().parent / "figures"
    for path in render_all(data, out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
