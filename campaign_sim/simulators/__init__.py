"""World models: the ground-truth synthetic world and response models fitted from logs."""

import lazy_loader as _lazy

_EXPORTS = {
    "interface": ["Outcomes", "RowFunctionWorld", "ShopperPool", "World"],
    "state": ["Dynamics", "ShopperState"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
