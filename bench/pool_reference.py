"""The alternative the python-runner benchmark compares against, run as its own light program.

``ProcessPoolExecutor(2)`` with a fresh interpreter per task (spawn context, one task per
child) calling the same function. It lives in its own file because a spawned child re-imports
the parent's main module: from here that costs nothing beyond the function's module.

    python bench/pool_reference.py N   → prints the wall seconds for N tasks
"""

import concurrent.futures as cf
import multiprocessing
import sys
import time

from bench_functions import trivial

if __name__ == "__main__":
    n = int(sys.argv[1])
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
        list(pool.map(trivial, [{"x": i} for i in range(n)], [None] * n))
    print(time.perf_counter() - started)
