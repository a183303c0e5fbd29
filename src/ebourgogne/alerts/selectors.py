"""Reads of alerts: always the caller's own (an alert of another user is "not found", never "forbidden")."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from ebourgogne.alerts.models import Alert, AlertMatch


def alerts_of(user: Any) -> list[Alert]:
    return list(Alert.objects.filter(owner_id=user.pk).select_related("company").annotate(match_count=Count("matches")))


def owned_alert(user: Any, pk: int) -> Alert | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Alert.objects.filter(pk=pk, owner_id=user.pk).select_related("company").first()


def alert_for_feed(token: str) -> Alert | None:
    if not token or len(token) > 64:
        return None
    return Alert.objects.filter(feed_token=token).first()


def recent_matches(alert: Alert, limit: int = 50):
    """The alert's latest matches with their index rows (consultations no longer public are left out)."""
    from ebourgogne.search.models import SearchEntry

    ids = list(
        AlertMatch.objects.filter(alert=alert)
        .order_by("-matched_at", "-pk")
        .values_list("consultation_id", "matched_at")[:limit]
    )
    entries = SearchEntry.objects.in_bulk([pk for pk, _ in ids])
    return [(entries[pk], matched_at) for pk, matched_at in ids if pk in entries]


def followed_consultations(user: Any) -> list[dict]:
    """The consultations the user follows by e-mail: identified DCE downloads and questions asked."""
    from django_scopes import scopes_disabled

    from ebourgogne.dce.models import Downloader
    from ebourgogne.questions.models import Kind, Question

    followed: dict[int, dict] = {}
    with scopes_disabled():
        for downloader in Downloader.objects.filter(user_id=user.pk).select_related("consultation").order_by("-pk"):
            entry = followed.setdefault(
                downloader.consultation_id,
                {"consultation": downloader.consultation, "downloader": None, "asked": False},
            )
            entry["downloader"] = downloader
        for question in Question.objects.filter(asked_by_id=user.pk, kind=Kind.QUESTION).select_related("consultation"):
            entry = followed.setdefault(
                question.consultation_id, {"consultation": question.consultation, "downloader": None, "asked": False}
            )
            entry["asked"] = True
    from ebourgogne.alerts.models import FollowMute

    email = (user.email or "").strip().lower()
    muted = set(
        FollowMute.objects.filter(email=email, consultation_id__in=list(followed)).values_list(
            "consultation_id", flat=True
        )
    )
    for consultation_id, entry in followed.items():
        downloader = entry["downloader"]
        entry["muted"] = consultation_id in muted or (
            not entry["asked"] and downloader is not None and downloader.unsubscribed_at is not None
        )
    return sorted(followed.values(), key=lambda entry: entry["consultation"].title)
