"""Benchmarks of the kit's containers (not tests: they measure, they do not assert)."""
