"""Facts about built-in algorithms that serving depends on (no CDK: the settings model
imports this)."""

CPU_ONLY_ALGORITHMS = frozenset({"forecasting-deepar"})
"""Built-in algorithms whose inference image runs on CPUs only (DeepAR)."""
