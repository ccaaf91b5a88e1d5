"""Owning one running sweep: preparing the run, the coordinator's loop, the scheduler, the machine's
budget, drift checks, and the sweep folder (lock, events, stored spec)."""
