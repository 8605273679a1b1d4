"""Off-policy evaluation over arrays: estimators, intervals, diagnostics, the launch gate."""
