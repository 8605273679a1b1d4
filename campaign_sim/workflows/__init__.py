"""Workflows wire subsystems together: config in, result dataclasses out."""
