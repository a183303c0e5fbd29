from django.core.mail.backends.locmem import EmailBackend as OutboxBackend  # replaced by the real outbox

__all__ = ["OutboxBackend"]
