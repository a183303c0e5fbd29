"""Models of awards (to come)."""
