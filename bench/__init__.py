"""The benchmark suite: ``python -m bench`` prints a table and writes docs/operations/benchmarks.md.

Each benchmark runs in a child process of its own (``python -m bench.child NAME``) so that
settings, imported modules and threads of one never colour another, and hands back one
:class:`bench.results.BenchResult` as JSON.
"""
