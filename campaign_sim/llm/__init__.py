"""Copy generation, text encoders, guardrails, copy library and shopper profiles.

Public names load on first use (``lazy_loader``): importing the package costs nothing."""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submod_attrs={
        "generators": ["CopyRequest", "HFGenerator", "TemplateGenerator"],
        "guardrails": ["Guardrails"],
        "encoders": ["MiniLMEncoder", "make_encoder"],
        "library": ["build_library"],
    },
)
