"""The reproducibility rules."""
