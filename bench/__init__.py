"""Benchmarks: each module prints its figures and compares with a peer in the same run."""
