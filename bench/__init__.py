"""On-demand engine benchmarks (``python -m bench``); not collected by pytest, not part of CI's pass/fail."""
