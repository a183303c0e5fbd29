"""The meeting preparation pages' guarded operations (permission `meetings.manage`), for the authorisation
matrix (ebourgogne/core/tests/test_authorisation_matrix.py reads every tests/authorisation_*.py)."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.meetings.models import AgendaItem, Meeting, MeetingDocument
from ebourgogne.testing.authorisation import Operation, World

MANAGE = "meetings.manage"


def _commission(world: World) -> Commission:
    if "meetings.commission" not in world.extra:
        with scopes_disabled():
            commission = Commission.objects.create(organisation=world.buyer, name="CAO des séances")
            CommissionMember.objects.create(commission=commission, user=world.commission_member, is_president=True)
        world.extra["meetings.commission"] = commission
    return world.extra["meetings.commission"]


def _meeting(world: World) -> Meeting:
    """A draft meeting of the world's buyer, ten days ahead, with two agenda items and one document."""
    if "meetings.meeting" not in world.extra:
        from ebourgogne.meetings import services
        from ebourgogne.testing.meetings import add_item, make_meeting

        meeting = make_meeting(_commission(world), days=10, title="CAO de l'autorisation")
        world.extra["meetings.items"] = [add_item(meeting, title="Point A"), add_item(meeting, title="Point B")]
        world.extra["meetings.document"] = services.document_add(
            acting_user=world.buyer_agent,
            meeting=meeting,
            uploaded=SimpleUploadedFile("rapport.pdf", b"%PDF rapport"),
        )
        world.extra["meetings.meeting"] = meeting
    return world.extra["meetings.meeting"]


def _url(name: str, *extra):
    return lambda w: reverse(name, args=[w.buyer.slug, _meeting(w).pk, *extra])


def _meetings(world: World):
    _meeting(world)
    return sorted(
        Meeting.objects.filter(organisation=world.buyer).values_list(
            "title", "state", "starts_at", "place", "sequence", "is_urgent", "cancel_reason"
        )
    )


def _agenda(world: World):
    return list(
        AgendaItem.objects.filter(meeting=_meeting(world)).order_by("position", "id").values_list("title", "position")
    )


def _documents(world: World):
    return sorted(MeetingDocument.objects.filter(meeting=_meeting(world)).values_list("title", "sha256", "removed_at"))


def _starts(days: int) -> dict[str, str]:
    local = dt.datetime.combine(clock.today_local() + dt.timedelta(days=days), dt.time(9, 30), tzinfo=PARIS)
    return {"starts_at_0": local.strftime("%Y-%m-%d"), "starts_at_1": local.strftime("%H:%M")}


OPERATIONS = [
    Operation(
        name="meetings.create",
        target="meetings:create",
        method="POST",
        permission=MANAGE,
        url=lambda w: reverse("meetings:create", args=[w.buyer.slug]),
        data=lambda w: {
            "commission": str(_commission(w).pk),
            "title": "CAO nouvelle",
            **_starts(12),
            "place": "Salle du conseil",
        },
        snapshot=_meetings,
    ),
    Operation(
        name="meetings.edit",
        target="meetings:edit",
        method="POST",
        permission=MANAGE,
        url=_url("meetings:edit"),
        data=lambda w: {"title": "CAO déplacée", **_starts(11), "place": "Salle B"},
        snapshot=_meetings,
    ),
    Operation(
        name="meetings.cancel",
        target="meetings:cancel",
        method="POST",
        permission=MANAGE,
        url=_url("meetings:cancel"),
        data=lambda w: {"reason": "Procédure déclarée sans suite"},
        snapshot=_meetings,
    ),
    Operation(
        name="meetings.convene",
        target="meetings:convene",
        method="POST",
        permission=MANAGE,
        url=_url("meetings:convene"),
        snapshot=_meetings,
    ),
    Operation(
        name="meetings.agenda",
        target="meetings:agenda",
        method="GET",
        permission=MANAGE,
        url=_url("meetings:agenda"),
        snapshot=_agenda,
        changes=False,
    ),
    Operation(
        name="meetings.agenda_add",
        target="meetings:agenda_add",
        method="POST",
        permission=MANAGE,
        url=_url("meetings:agenda_add"),
        data=lambda w: {"kind": "other", "title": "Questions diverses"},
        snapshot=_agenda,
    ),
    Operation(
        name="meetings.agenda_move",
        target="meetings:agenda_move",
        method="POST",
        permission=MANAGE,
        url=lambda w: reverse(
            "meetings:agenda_move", args=[w.buyer.slug, _meeting(w).pk, w.extra["meetings.items"][1].pk]
        ),
        data=lambda w: {"direction": "up"},
        snapshot=_agenda,
    ),
    Operation(
        name="meetings.agenda_remove",
        target="meetings:agenda_remove",
        method="POST",
        permission=MANAGE,
        url=lambda w: reverse(
            "meetings:agenda_remove", args=[w.buyer.slug, _meeting(w).pk, w.extra["meetings.items"][0].pk]
        ),
        snapshot=_agenda,
    ),
    Operation(
        name="meetings.documents",
        target="meetings:documents",
        method="GET",
        permission=MANAGE,
        url=_url("meetings:documents"),
        snapshot=_documents,
        changes=False,
    ),
    Operation(
        name="meetings.document_add",
        target="meetings:document_add",
        method="POST",
        permission=MANAGE,
        url=_url("meetings:document_add"),
        data=lambda w: {"file": SimpleUploadedFile("note.pdf", b"%PDF note"), "title": "Note"},
        snapshot=_documents,
    ),
    Operation(
        name="meetings.document_remove",
        target="meetings:document_remove",
        method="POST",
        permission=MANAGE,
        url=lambda w: reverse(
            "meetings:document_remove", args=[w.buyer.slug, _meeting(w).pk, w.extra["meetings.document"].pk]
        ),
        snapshot=_documents,
    ),
]
