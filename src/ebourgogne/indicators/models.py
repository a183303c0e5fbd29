"""Models of indicators (to come)."""
