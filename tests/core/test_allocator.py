"""keep_freed_memory: a freed large tensor's pages are reused, not faulted in again (glibc hosts)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, resource, torch
from embodied.allocator import keep_freed_memory
applied = keep_freed_memory()
for _ in range(10):  # 32 MB tensors: the first ones fault their pages in either way, until freed blocks coalesce
    torch.ones(8 << 20).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    torch.ones(8 << 20).sum()
print(json.dumps({"applied": applied, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _probe(keep: str) -> dict:
    env = {**os.environ, "EMBODIED_KEEP_FREED_MEMORY": keep}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt; other allocators cache on their own")
def test_freed_tensor_memory_is_reused_without_page_faults():
    kept, default = _probe("1"), _probe("0")
    assert kept["applied"] and not default["applied"]
    pages = 20 * (32 << 20) // 4096  # what 20 fresh 32 MB tensors fault in
    assert default["faults"] > pages // 2, default  # the default hands each one back to the OS, faults it in again
    assert kept["faults"] < default["faults"] // 10, (kept, default)  # kept in the heap: reused as it is
