"""Benchmarks (`make bench`): each module in this package exposes `run(args) -> None` and prints
its figures. They start their own server processes on 127.0.0.1 and are bounded in time."""
