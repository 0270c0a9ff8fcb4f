"""Number formatting shared by the benchmark tables (bench/run.py, bench/tail_rows.py)."""


def fmt_rate(x):
    """A rate with a G/M/k suffix and two decimals: 15.46M."""
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= div:
            return f"{x / div:.2f}{unit}"
    return f"{x:.0f}"
