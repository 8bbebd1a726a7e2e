"""The local Ray that embodied starts runs its workers at normal priority: Ray's default (niceness 15) lets any
other busy process on the machine starve the env workers that training waits for."""
from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os, ray
from embodied.rollout.cluster import ray_started
with ray_started(num_cpus=1, object_store_mb=80):
    print("worker niceness", ray.get(ray.remote(lambda: os.nice(0)).remote()), "driver", os.nice(0))
"""


def test_local_ray_workers_run_at_the_drivers_priority():
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("worker niceness"))
    _, _, worker, _, driver = line.split()
    assert worker == driver, line  # Ray alone would give 15
