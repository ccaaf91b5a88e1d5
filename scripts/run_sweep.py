#!/usr/bin/env python3
"""Run a parameter sweep: the original entry point, a thin wrapper over ``sweeplab run``.

    python scripts/run_sweep.py --config sweeps/memory_corruption_sweep.yaml
    python scripts/run_sweep.py --base experiments/examples/unstable_memory_moderate.json \\
        --param interventions.0.parameters.corruption_rate 0.0 0.5 1.0 --param max_cycles 10 20 --parallel 3
"""

import sys

from sweeplab.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
