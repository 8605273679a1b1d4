"""Copy generation, text encoders, guardrails, copy library and shopper profiles."""

import lazy_loader as _lazy

_EXPORTS = {
    "generators": ["CopyRequest", "HFGenerator", "TemplateGenerator"],
    "guardrails": ["Guardrails"],
    "encoders": ["MiniLMEncoder", "make_encoder"],
    "library": ["build_library"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
