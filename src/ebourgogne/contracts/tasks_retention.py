"""The retention purge job (session 5: written by the retention work)."""
