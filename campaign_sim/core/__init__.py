"""Errors, configuration, run directories: the layer everything else builds on."""

import lazy_loader as _lazy

_EXPORTS = {
    "config": ["CampaignConfig", "load_config"],
    "errors": ["DataError", "InputError"],
    "runs": ["RunDir"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
