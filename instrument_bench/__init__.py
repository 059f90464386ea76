"""instrument_bench: a benchmark harness for musical instrument recognition."""

__version__ = "0.1.0"
