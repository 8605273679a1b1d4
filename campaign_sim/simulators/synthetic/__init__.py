"""The ground-truth synthetic world: shoppers whose true response is known."""

import lazy_loader as _lazy

_EXPORTS = {
    "world": ["SyntheticWorld"],
    "truth": ["TruthParameters"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
