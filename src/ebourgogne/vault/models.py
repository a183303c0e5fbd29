"""Models of vault (to come)."""
