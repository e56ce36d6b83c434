"""The monitoring rules."""
