"""A stand-in trial for executor tests: ``python trial_script.py MODE [ARG]``.

Each mode behaves like one kind of real trial (succeeds, fails, hangs, hogs memory ...). Files
go to ``$SWEEPLAB_ATTEMPT_DIR``, which the executor sets. Kept to the standard library so that
it starts fast.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

ATTEMPT_DIR = os.environ.get("SWEEPLAB_ATTEMPT_DIR", ".")


def _write(name: str, text: str) -> None:
    path = os.path.join(ATTEMPT_DIR, name)
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)  # tests wait for the final name: it appears complete


def _hang(ignore_term: bool) -> None:
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(3600)


def _allocate(megabytes: int) -> list[bytearray]:
    blocks = []
    for _ in range(megabytes // 10):
        block = bytearray(10 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # touch every page so it is resident
        blocks.append(block)
    return blocks


def main(mode: str, arg: str | None) -> int:
    if mode == "metrics-file":
        print("training ...")
        _write("metrics.json", json.dumps({"loss": 0.25, "steps": 10, "ok": True, "name": "x",
                                           "nested": {"a": 1}}))
        return 0
    if mode == "stdout-json":
        print("starting")
        print(json.dumps({"acc": 0.5}))
        print(json.dumps({"acc": 0.9, "n": 3, "label": "best"}))
        print("[1, 2, 3]")
        print("done")
        return 0
    if mode == "fail":
        for number in range(30):
            print(f"stderr line {number}", file=sys.stderr)
        return 3
    if mode == "invalid":
        print("config key 'model.depth' must be positive", file=sys.stderr)
        return 2
    if mode == "env":
        names = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                 "SWEEPLAB_ATTEMPT_DIR", "EXTRA_VAR"]
        _write("env.json", json.dumps({name: os.environ.get(name) for name in names} | {"cwd": os.getcwd()}))
        return 0
    if mode == "hygiene":
        # what a trial inherits from whoever started it
        descriptors = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
        _write("hygiene.json", json.dumps({
            "fds": [fd for fd in descriptors if os.path.exists(f"/proc/self/fd/{fd}")],  # the listing's own fd is gone
            "stdin": sys.stdin.read(),
            "session_leader": os.getsid(0) == os.getpid(), "group_leader": os.getpgid(0) == os.getpid(),
            "cwd": os.getcwd()}))
        return 0
    if mode == "hang":
        _write("ready", str(os.getpid()))
        _hang(ignore_term=arg == "ignore-term")
    if mode == "family":
        # a grandchild in our process group that ignores SIGTERM, and a leader that ignores it too
        import subprocess

        child = subprocess.Popen([sys.executable, __file__, "hang", "ignore-term"],
                                 env=dict(os.environ, SWEEPLAB_ATTEMPT_DIR=os.path.join(ATTEMPT_DIR, "child")))
        os.makedirs(os.path.join(ATTEMPT_DIR, "child"), exist_ok=True)
        while not os.path.exists(os.path.join(ATTEMPT_DIR, "child", "ready")):
            time.sleep(0.01)
        _write("pids.json", json.dumps([os.getpid(), child.pid]))
        _hang(ignore_term=arg == "ignore-term")
    if mode == "orphan":
        # the leader exits at once, leaving a grandchild behind in its group
        import subprocess

        os.makedirs(os.path.join(ATTEMPT_DIR, "child"), exist_ok=True)
        child = subprocess.Popen([sys.executable, __file__, "hang"],
                                 env=dict(os.environ, SWEEPLAB_ATTEMPT_DIR=os.path.join(ATTEMPT_DIR, "child")))
        while not os.path.exists(os.path.join(ATTEMPT_DIR, "child", "ready")):
            time.sleep(0.01)
        _write("pids.json", json.dumps([os.getpid(), child.pid]))
        return 0
    if mode == "memhog":
        blocks = _allocate(int(arg or 400))
        print(json.dumps({"allocated_mb": len(blocks) * 10}))
        return 0
    if mode == "reserve":
        # map a large region without touching it, as a language model maps its weights
        import mmap

        region = mmap.mmap(-1, int(arg or 1024) * 1024 * 1024)
        print(json.dumps({"reserved_mb": len(region) // (1024 * 1024)}))
        return 0
    if mode == "tree-hog":
        # each process stays under an address-space limit, together they exceed the RSS grant
        import subprocess

        megabytes = int(arg or 120)
        child = subprocess.Popen([sys.executable, __file__, "hold", str(megabytes)])
        blocks = _allocate(megabytes)
        child.wait()
        return len(blocks) and 0
    if mode == "hold":
        blocks = _allocate(int(arg or 120))
        _hang(ignore_term=False)
        return len(blocks) and 0
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
