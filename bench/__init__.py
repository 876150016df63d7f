"""Benchmarks: python -m bench [--quick]. Ratios against baselines measured in the same run."""
