"""Campaign logs: canonical schema, loaders, config-driven adapters, validation, bandit view."""
