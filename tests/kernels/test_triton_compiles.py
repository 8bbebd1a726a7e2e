"""Every kernel config compiles for Hopper (sm_90, the H100 / H200) and fits its shared memory, without a GPU.

Triton compiles ahead of time for a named target with the ``ptxas`` its wheel carries, so the compiled path
(which the interpreter tests never take) is checked here: a config that fails to compile, or needs more
shared memory than the chip has, would only show on a lent GPU. bf16 (training, the benchmarks): every
autotune candidate must fit. fp32 (IEEE dots, twice the bytes): the autotuner drops a candidate that does
not fit, so the default and the smallest candidate must fit.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from embodied.kernels import tuning

SM90_SHARED_BYTES = 232448  # 227 KiB per block, H100 and H200
FP32_BUFFERS = {"LSE", "DELTA", "DK", "DV", "DQ", "DKS", "DVS", "M", "L", "ACC"}
INT_BUFFERS = {"LENS", "START"}
INPUTS = {"Q", "K", "V", "KS", "VS", "O", "DO"}


def _compile(fn, dtype: str, constants: dict, config: triton.Config):
    """Compile ``fn`` for sm_90; returns the compiled kernel (its metadata has the shared memory)."""
    constants = {**constants, **config.kwargs}
    signature = {}
    for name in fn.arg_names:
        if name in constants:
            signature[name] = "constexpr"
        elif name in INPUTS:
            signature[name] = f"*{dtype}"
        elif name in FP32_BUFFERS:
            signature[name] = "*fp32"
        elif name in INT_BUFFERS:
            signature[name] = "*i32"
        else:
            signature[name] = "fp32" if name.startswith("scale") else "i32"
    src = ASTSource(fn=fn, signature=signature,
                    constexprs={(fn.arg_names.index(k),): v for k, v in constants.items()})
    return triton.compile(src, target=GPUTarget("cuda", 90, 32),
                          options={"num_warps": config.num_warps, "num_stages": config.num_stages})


def _kernels():
    from embodied.kernels import triton_attention as ta
    from embodied.kernels import triton_decode as td

    flags = dict(HAS_START=True, D=128, UPCAST=False)
    sinks = dict(HAS_SINK=True, HAS_VSINK=True)
    return {"fwd": (ta._fwd_kernel, "fwd", {**flags, **sinks}), "bwd_dkdv": (ta._bwd_dkdv_kernel, "bwd", flags),
            "bwd_dq": (ta._bwd_dq_kernel, "bwd", {**flags, **sinks}),
            "decode": (td._split_kernel, "decode", dict(HAS_START=True, D=128))}


def _configs(kind: str) -> dict[str, triton.Config]:
    return {"default": tuning.default(kind, 128), **{str(i): c for i, c in enumerate(tuning.candidates(kind))}}


def _smallest(kind: str) -> str:
    """The key of ``kind``'s candidate with the smallest tiles: the one most likely to fit in fp32."""
    configs = _configs(kind)
    return min((k for k in configs if k != "default"),
               key=lambda k: (configs[k].kwargs.get("BLOCK_M", 1) * configs[k].kwargs["BLOCK_N"], configs[k].num_stages))


def _shared_bytes(job: tuple[str, str, str]) -> int | str:
    """One compile: ``(kernel, dtype, config key)`` -> its shared bytes, or the compile error."""
    name, dtype, key = job
    fn, kind, constants = _kernels()[name]
    if kind != "decode":
        constants = {**constants, "IEEE": dtype == "fp32"}
    config = _configs(kind)[key]
    try:
        return _compile(fn, dtype, constants, config).metadata.shared
    except Exception as e:  # noqa: BLE001  (reported by the tests, with the config)
        return f"{type(e).__name__}: {str(e)[:300]} ({config})"


def compile_all() -> dict:
    """Shared bytes (or the compile error) of every kernel and config in bf16, and in fp32 of the default and
    the smallest candidate; compiled in parallel."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    jobs = [(name, "bf16", key) for name, (_, kind, _) in _kernels().items() for key in _configs(kind)]
    jobs += [(name, "fp32", key) for name, (_, kind, _) in _kernels().items() for key in ("default", _smallest(kind))]
    with ProcessPoolExecutor(os.cpu_count(), mp_context=get_context("spawn")) as pool:
        out = {"/".join(job): shared for job, shared in zip(jobs, pool.map(_shared_bytes, jobs))}
    from embodied.kernels import triton_decode as td

    merge = dict(HAS_SINK=True, HAS_VSINK=True, D=128, SPLITS=128)
    out["merge/bf16/default"] = _compile(td._merge_kernel, "bf16", merge, triton.Config({}, num_warps=4)).metadata.shared
    return out


@pytest.fixture(scope="module")
def sm90() -> dict:
    """Compiled in a fresh process: with ``TRITON_INTERPRET=1`` (this test session's) Triton cannot compile."""
    env = {**os.environ, "TRITON_INTERPRET": "0", "TRITON_DEFAULT_FP_FUSION": "1"}
    res = subprocess.run([sys.executable, __file__], capture_output=True, text=True, env=env, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _fits(value) -> bool:
    return isinstance(value, int) and value <= SM90_SHARED_BYTES


@pytest.mark.slow
def test_every_config_compiles_and_every_bf16_candidate_fits(sm90):
    errors = {k: v for k, v in sm90.items() if not isinstance(v, int)}
    assert not errors, errors
    too_big = {k: v for k, v in sm90.items() if "/bf16/" in k and not _fits(v)}
    assert not too_big, f"shared memory over sm_90's {SM90_SHARED_BYTES} bytes: {too_big}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fwd", "bwd_dkdv", "bwd_dq", "decode"])
def test_fp32_default_and_the_smallest_candidate_fit(sm90, name):
    """The autotuner drops the candidates that do not fit, but needs one; the default (no autotuning) must fit."""
    assert _fits(sm90[f"{name}/fp32/default"])
    (smallest,) = [v for k, v in sm90.items() if k.startswith(f"{name}/fp32/") and not k.endswith("/default")]
    assert _fits(smallest)


if __name__ == "__main__":
    print(json.dumps(compile_all()))
