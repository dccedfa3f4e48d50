"""Experiments that test the spamdetect model: baselines, ablations, generalisation, learning curve,
robustness. Each script logs to the MLflow experiment ``spamdetect-experiments``; ``report.py``
turns the runs into ``experiments/REPORT.md``. Run them all with ``python -m experiments.run_all``."""
