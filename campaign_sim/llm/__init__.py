"""Copy generation, text encoders, guardrails, copy library and shopper profiles."""
