"""Workflows wire subsystems together: config in, result dataclasses out.

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "fit": ["run_fit"],
        "train": ["TrainRequest", "run_train"],
        "report": ["run_report"],
        "offpolicy": ["run_offpolicy"],
        "evaluation": ["Evaluation"],
    },
)
