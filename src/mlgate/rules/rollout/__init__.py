"""The rollout rules."""
