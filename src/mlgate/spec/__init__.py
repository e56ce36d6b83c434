"""The deployment spec (mlgate.yaml): pydantic models and the loader that keeps positions."""
