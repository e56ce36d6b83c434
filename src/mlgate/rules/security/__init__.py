"""The security rules."""
