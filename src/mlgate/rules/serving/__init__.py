"""The serving rules."""
