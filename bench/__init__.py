"""Benchmarks (not tests): sync, webhook acknowledgement and rules throughput, each writing JSON under results/.

Run with ``.venv/bin/python -m bench.<name>``; ``bench/README.md`` explains every figure. Nothing here is
imported by production code.
"""
