"""What making a file costs on this disk, in a fresh folder, beside many files, and after many were deleted.

    python bench/bench_inodes.py [FOLDER]      # about two minutes; FOLDER defaults to the temporary folder

A sweep keeps files for every trial (its folder, the attempt's folder, config.json, stdout and stderr;
on a cluster the worker's claim too), and their cost is the file system's. This prints the CPU time
of one file creation (a folder and a file in it, halved) in a fresh folder, after 15,000 files were
made beside it, just after those were deleted and at intervals since; and beside them the calls a sweep
makes that create no file (a hard link, appending a line). On the ext4 disk of the machine in
bench/README.md a file creation cost 0.02 ms of CPU at times and 0.13-0.9 ms at others, changing from
minute to minute and from folder to folder, in no order these steps control (results/inodes.txt has
the runs): a benchmark's side that makes files pays it, a side that makes none does not. That ext4 runs
without a journal, and so skips every inode freed in the last 60-360 s, reading its deletion time.
Results: bench/results/inodes.txt.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_engine import file_cost, machine

PROBES = 300


def _call_cost(call: object) -> float:
    started = time.process_time()
    for number in range(PROBES):
        call(number)  # type: ignore[operator]
    return (time.process_time() - started) / PROBES * 1000


def main() -> None:
    base = tempfile.mkdtemp(prefix="sweeplab-inodes-", dir=sys.argv[1] if len(sys.argv) > 1 else None)
    rows = [("a fresh folder", file_cost(base, PROBES))]
    many = os.path.join(base, "many")
    os.mkdir(many)
    for number in range(3000):  # 15,000 files: a few benchmark rounds' trial folders
        os.mkdir(f"{many}/t{number}")
        for name in ("config.json", "stdout.txt", "stderr.txt", "claim"):
            os.close(os.open(f"{many}/t{number}/{name}", os.O_WRONLY | os.O_CREAT, 0o644))
    rows.append(("after 15,000 made there", file_cost(base, PROBES)))
    shutil.rmtree(many)
    deleted = time.monotonic()
    rows.append(("just after they were deleted", file_cost(base, PROBES)))
    for wait in (30, 60, 120):
        time.sleep(max(0.0, deleted + wait - time.monotonic()))
        rows.append((f"{wait} s after they were deleted", file_cost(base, PROBES)))
    target = os.path.join(base, "target")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
    index = os.open(os.path.join(base, "index"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    link = _call_cost(lambda number: os.link(target, os.path.join(base, f"link{number}")))
    append = _call_cost(lambda number: os.write(index, f"exp{number:04d}_x={number}\t0123456789ab\n".encode()))
    os.close(index)
    shutil.rmtree(base, ignore_errors=True)
    lines = [machine(), "", f"[inodes] CPU time of one file creation, {PROBES} folders and files each, under "
             f"{Path(base).parent}"]
    lines += [f"  {label:34s} {cost:6.3f} ms" for label, cost in rows]
    lines += [f"  {'a hard link (no file made)':34s} {link:6.3f} ms",
              f"  {'a line appended to an open file':34s} {append:6.3f} ms"]
    print("\n".join(lines))
    results = Path(__file__).parent / "results" / "inodes.txt"
    earlier = results.read_text().split("\n\n", 1)[1] if results.exists() else ""  # the runs before, kept
    results.write_text("\n".join(lines) + "\n\n" + earlier)


if __name__ == "__main__":
    main()
