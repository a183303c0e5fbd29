from django.conf import settings


def platform(request):
    return {"PLATFORM_NAME": "e-bourgogne", "PRODUCTION": settings.PRODUCTION}
