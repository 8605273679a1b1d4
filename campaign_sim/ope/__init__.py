"""Off-policy evaluation over arrays: estimators, intervals, diagnostics, the launch gate."""

import lazy_loader as _lazy

_EXPORTS = {
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
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
