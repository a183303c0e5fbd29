"""Models of signatures (to come)."""
