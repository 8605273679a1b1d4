"""A shopper response model fitted from a campaign log (torch to fit, numpy to run).

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "world": ["FittedWorld"],
        "fit": ["FitResult", "fit_world"],
        "support": ["SupportTable"],
    },
)
