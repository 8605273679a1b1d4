"""World models: the ground-truth synthetic world and response models fitted from logs.

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "interface": ["Outcomes", "RowFunctionWorld", "ShopperPool", "World"],
        "state": ["Dynamics", "ShopperState"],
    },
)
