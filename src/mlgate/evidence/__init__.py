"""Evidence: what the spec's fields point at (files, git history), read lazily and once per repository."""
