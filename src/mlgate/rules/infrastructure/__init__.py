"""The infrastructure rules."""
