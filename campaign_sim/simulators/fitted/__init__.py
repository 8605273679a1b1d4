"""A shopper response model fitted from a campaign log (torch to fit, numpy to run)."""

import lazy_loader as _lazy

_EXPORTS = {
    "world": ["FittedWorld"],
    "fit": ["FitResult", "fit_world"],
    "support": ["SupportTable"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
