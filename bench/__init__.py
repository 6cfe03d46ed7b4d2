"""Benchmarks: each prints its timings beside a bare baseline measured in the same run."""
