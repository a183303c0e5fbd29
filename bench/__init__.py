"""Benchmarks of e-bourgogne, run with `ebourgogne bench NAME` (see docs/benchmarks.md).

Each module not starting with "_" is one benchmark: NAME, DESCRIPTION and run(quick: bool) -> dict.
"""
