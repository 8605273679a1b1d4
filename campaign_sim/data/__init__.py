"""Campaign logs: canonical schema, loaders, config-driven adapters, validation, bandit view."""

import lazy_loader as _lazy

_EXPORTS = {
    "log": ["CampaignLog", "load_log", "validate_log"],
    "describe": ["describe_log"],
    "convert": ["convert_log"],
    "bandit": ["BanditLog", "bandit_log"],
    "buckets": ["Bucket", "CustomerBuckets"],
}
__getattr__, __dir__, __all__ = _lazy.attach(__name__, submod_attrs=_EXPORTS)
