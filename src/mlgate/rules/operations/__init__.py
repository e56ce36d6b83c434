"""The operations rules."""
