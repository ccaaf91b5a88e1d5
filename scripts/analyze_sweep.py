#!/usr/bin/env python3
"""Analyse a sweep (the original entry point): a thin wrapper over ``sweeplab analyze``.

    python scripts/analyze_sweep.py <sweep_id> --output report.txt --plot --viz-script

Takes the same flags as ``sweeplab analyze`` (see ``--help``); needs sweeplab installed.
"""

from __future__ import annotations

import sys

from sweeplab.analysis.cli import analyze_main

if __name__ == "__main__":
    sys.exit(analyze_main(sys.argv[1:]))
