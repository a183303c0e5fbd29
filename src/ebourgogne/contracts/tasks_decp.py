"""The daily DECP file job (session 5: written by the DECP work)."""
