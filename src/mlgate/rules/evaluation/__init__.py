"""The evaluation rules."""
