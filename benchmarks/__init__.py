"""Benchmarks for extend_frames (issue #8): ``python -m benchmarks``; see ``__main__``."""
