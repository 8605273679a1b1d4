"""The ground-truth synthetic world: shoppers whose true response is known.

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "world": ["SyntheticWorld"],
        "truth": ["TruthParameters"],
    },
)
