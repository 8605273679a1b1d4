"""Errors, configuration, run directories: the layer everything else builds on.

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "config": ["CampaignConfig", "load_config"],
        "errors": ["DataError", "InputError"],
        "runs": ["RunDir"],
    },
)
