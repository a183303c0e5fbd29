"""The Content-Security-Policy header, built once per policy instead of on every response.

Django's `ContentSecurityPolicyMiddleware` calls `django.utils.csp.build_policy(config, nonce)` for every
response: a loop over the policy's directives and their values, the same string each time unless the page
used a nonce. `install()` (called when the core app is ready) puts `build_policy()` below in the
middleware's place: with no nonce used (the nonce is lazy: it is falsy until a template asks for it) the
header of a given policy dictionary is built by Django's own function once and kept; with a nonce, it is
Django's function every time. The kept headers are dropped when a setting changes (tests use
override_settings, which gives a new dictionary anyway); a policy dictionary is not to be changed in place
while the server runs (Django reads SECURE_CSP as a setting).
"""

from __future__ import annotations

from django.core.signals import setting_changed
from django.middleware import csp as csp_middleware
from django.utils import csp

# id(config) -> (config, header): the dictionary is kept with its header, so its id cannot be reused.
_BUILT: dict[int, tuple[object, str]] = {}
MAX_BUILT = 64


def build_policy(config, nonce=None) -> str:
    if nonce:
        return csp.build_policy(config, nonce)
    found = _BUILT.get(id(config))
    if found is not None and found[0] is config:
        return found[1]
    header = csp.build_policy(config, None)
    if len(_BUILT) >= MAX_BUILT:
        _BUILT.clear()
    _BUILT[id(config)] = (config, header)
    return header


def _clear(**kwargs) -> None:
    _BUILT.clear()


setting_changed.connect(_clear, dispatch_uid="ebourgogne_csp_settings_changed")


def install() -> None:
    if getattr(csp_middleware, "build_policy", None) is build_policy:
        return
    if getattr(csp_middleware, "build_policy", None) is not csp.build_policy:
        raise RuntimeError("django.middleware.csp changed: review ebourgogne.core.csp")
    csp_middleware.build_policy = build_policy
