"""Benchmark harness: datasets, systems, metrics, Pareto curves and reports."""
