"""Workflows wire subsystems together: config in, result dataclasses out."""

import lazy_loader as _lazy

_EXPORTS = {
    "fit": ["run_fit"],
    "train": ["TrainRequest", "run_train"],
    "report": ["run_report"],
    "offpolicy": ["run_offpolicy"],
    "evaluation": ["Evaluation"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
