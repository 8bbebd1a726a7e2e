"""The benchmark script as a module (benchmarks/ is not a package)."""
import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "incontext.py"
_spec = importlib.util.spec_from_file_location("incontext_bench_module", _PATH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
