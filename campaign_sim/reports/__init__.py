"""Pure plotting functions and renderers: rebuilt from saved results, no torch or gymnasium.

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "render": ["render_report"],
        "summary": ["ReportSummary"],
    },
)
