"""Off-policy evaluation over arrays: estimators, intervals, diagnostics, the launch gate.

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "estimators": ["DM", "DR", "IPS", "SNDR", "SNIPS", "SwitchDR"],
        "sequential": ["PDIS", "WPDIS", "LoggedEpisodes", "SeqDR"],
        "gate": ["launch_gate"],
        "intervals": [
            "Interval",
            "bootstrap_interval",
            "interval",
            "normal_interval",
            "paired_difference",
            "studentized_interval",
        ],
        "propensity": ["estimate_propensities"],
    },
)
