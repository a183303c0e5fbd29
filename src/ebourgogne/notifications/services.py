"""Sending e-mails. (Stub: the notifications helper replaces the body; keep the signature.)"""

from __future__ import annotations

from typing import Any


def send_templated_mail(
    *, template: str, to: list[str], context: dict[str, Any], language: str | None = None
) -> None:
    """Render `<template>_subject.txt`, `<template>.txt` and `<template>.html` in `language` (the
    recipient's; French by default) and send them after the current transaction commits, through the
    task queue."""
    return None
