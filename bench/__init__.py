"""Benchmarks (not tests): run them by hand, read the figures."""
