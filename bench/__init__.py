"""Benchmarks: figures as medians over repeated runs, written to docs/ (see README).

The benches drive the same rig as the end-to-end tests (tests/e2e/e2e_harness.py), so the
tests folder is importable from here.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
