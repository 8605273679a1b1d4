"""The few statistical constants every layer uses, defined once (scipy where it has them)."""

from __future__ import annotations

from scipy.special import expit
from scipy.stats import norm

Z95 = float(norm.ppf(0.975))  # two-sided 95% normal quantile, 1.959964...

__all__ = ["Z95", "expit"]
