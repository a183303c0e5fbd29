"""Sizes shared by the server and the browser (the upload protocol, docs/bids-protocol.md)."""

CHUNK_SIZE = 8 * 1024 * 1024  # the largest PATCH body accepted, and what the browser sends
