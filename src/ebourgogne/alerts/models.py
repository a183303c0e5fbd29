"""Models of alerts (to come)."""
