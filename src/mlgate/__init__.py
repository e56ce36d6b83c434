"""mlgate: is this model deployment ready, and what proves it?"""

__version__ = "0.1.0"
