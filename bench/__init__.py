"""Benchmarks: figures as medians over repeated runs, written to docs/ (see README)."""
