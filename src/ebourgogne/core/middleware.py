"""Response headers Django does not set by itself.

- Permissions-Policy: the platform uses no camera, microphone, geolocation, payment or USB, so browsers
  refuse them to any script that would ask.
- Cache-Control for signed-in pages: `private, no-store`, so that a shared computer's back button or a
  proxy never shows someone's account pages to the next person.
"""

from __future__ import annotations

from django.utils.http import http_date

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "interest-cohort",
    )
)


# What django.utils.cache.add_never_cache_headers() writes on a response that has no Cache-Control yet,
# written directly: it runs on every signed-in page.
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = NEVER_CACHE
            response.headers.setdefault("Expires", http_date())
        return response

    def process_exception(self, request, exception):
        """An identifier in the address too large for the database (`/consultations/10000000000000000000000/`:
        SQLite cannot bind it) names nothing that exists: the page is not found, not a server error."""
        if isinstance(exception, OverflowError):
            from ebourgogne.core.views import page_not_found

            return page_not_found(request, exception)
        return None
