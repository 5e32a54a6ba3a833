"""Benchmark harness: generate a dataset at a given scale, run every registered workload our
way and as hand-written SQL, and report how far apart they are.

``python -m bench --scale small|medium|large --db sqlite|postgres`` (or ``make bench``); see
``docs/benchmarks.md``.
"""
