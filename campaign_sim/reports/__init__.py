"""Pure plotting functions and renderers: rebuilt from saved results, no torch or gymnasium."""

import lazy_loader as _lazy

_EXPORTS = {
    "render": ["render_report"],
    "summary": ["ReportSummary"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
