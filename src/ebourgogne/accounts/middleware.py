class RequireMFAMiddleware:
    """Placeholder: sends staff without TOTP to the MFA set-up page (built in accounts)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)
