"""Pure statistics shared by serving (canary health) and monitoring (drift)."""

from loopline.stats._psi import EPSILON, binned_fractions, psi, psi_from_fractions, quantile_edges

__all__ = ["EPSILON", "binned_fractions", "psi", "psi_from_fractions", "quantile_edges"]
