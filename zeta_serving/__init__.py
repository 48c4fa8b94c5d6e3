"""zeta-serving: suggestion models for marketplace listings, served and self-maintained."""

__version__ = "0.1.0"
