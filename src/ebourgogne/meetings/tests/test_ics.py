"""The iCalendar invitation parses with `icalendar` and with an independent parser (vobject), keeps its UID
across update and cancellation, raises its SEQUENCE, and gives the right instant on both sides of the
daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from ebourgogne.meetings import ics

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 3, 20, 9, 30, tzinfo=dt.UTC)


def meeting(starts_at: dt.datetime, *, sequence: int = 0, ends_at=None, video_url="https://visio.exemple.test/cao"):
    return SimpleNamespace(
        uid="6f0c1d1e-0000-4000-8000-000000000042@e-bourgogne",
        sequence=sequence,
        starts_at=starts_at,
        ends_at=ends_at,
        title="Séance de la CAO",
        place="Salle du conseil, Dijon",
        video_url=video_url,
        commission=SimpleNamespace(name="Commission d'appel d'offres"),
        organisation=SimpleNamespace(name="Commune de Beaune"),
    )


def convocation(response: str = "pending", voice: str = "deliberative"):
    user = SimpleNamespace(email="chantal@beaune.test", full_name="Chantal Commission, présidente")
    return SimpleNamespace(user=user, voice=voice, response=response)


def build(m, method="REQUEST", *, c=None, changes=None) -> str:
    return ics.build(
        meeting=m,
        convocation=c or convocation(),
        method=method,
        now=NOW,
        agenda=["Ouverture des plis : voirie; lot 1, lot 2", "Questions diverses"],
        url="https://e-bourgogne.test/seances/42/",
        changes=changes,
    )


def both(text: str):
    parsed = icalendar.Calendar.from_ical(text)
    [event] = parsed.walk("VEVENT")
    independent = vobject.readOne(text)
    return parsed, event, independent, independent.vevent


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (dt.datetime(2026, 1, 15, 14, 0), dt.datetime(2026, 1, 15, 13, 0, tzinfo=dt.UTC)),  # winter, UTC+1
        (dt.datetime(2026, 7, 15, 14, 0), dt.datetime(2026, 7, 15, 12, 0, tzinfo=dt.UTC)),  # summer, UTC+2
        (dt.datetime(2026, 3, 29, 14, 0), dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.UTC)),  # the day clocks go forward
        (dt.datetime(2026, 10, 25, 9, 0), dt.datetime(2026, 10, 25, 8, 0, tzinfo=dt.UTC)),  # the day they go back
        (dt.datetime(2026, 3, 28, 14, 0), dt.datetime(2026, 3, 28, 13, 0, tzinfo=dt.UTC)),  # the day before
    ],
)
def test_times_are_right_across_daylight_saving_changes(local, utc):
    text = build(meeting(local.replace(tzinfo=PARIS)))
    _parsed, event, _independent, vevent = both(text)
    assert f"DTSTART;TZID=Europe/Paris:{local:%Y%m%dT%H%M%S}" in text
    assert event.decoded("dtstart").astimezone(dt.UTC) == utc
    assert vevent.dtstart.value.astimezone(dt.UTC) == utc  # vobject applies our VTIMEZONE's RRULEs
    assert vevent.dtend.value - vevent.dtstart.value == ics.DEFAULT_DURATION


def test_the_invitation_is_a_complete_request():
    starts = dt.datetime(2026, 12, 3, 14, 0, tzinfo=PARIS)
    text = build(meeting(starts, ends_at=starts + dt.timedelta(hours=3)))
    assert "\r\n" in text and all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # folded lines
    parsed, event, independent, vevent = both(text)
    assert parsed["method"] == "REQUEST" and independent.method.value == "REQUEST"
    assert parsed["version"] == "2.0" and parsed["prodid"] == ics.PRODID
    assert [zone["tzid"] for zone in parsed.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert event["uid"] == vevent.uid.value == "6f0c1d1e-0000-4000-8000-000000000042@e-bourgogne"
    assert event["sequence"] == 0 and vevent.sequence.value == "0"
    assert event.decoded("dtstamp") == NOW and vevent.dtstamp.value == NOW
    assert vevent.dtend.value.astimezone(dt.UTC) == dt.datetime(2026, 12, 3, 16, 0, tzinfo=dt.UTC)
    assert vevent.location.value == "Salle du conseil, Dijon"
    assert vevent.url.value == "https://e-bourgogne.test/seances/42/"
    assert vevent.summary.value == "Séance de la CAO — Commission d'appel d'offres"
    assert vevent.status.value == "CONFIRMED"
    description = vevent.description.value
    assert "1. Ouverture des plis : voirie; lot 1, lot 2\n2. Questions diverses" in description  # escaped, unescaped
    assert "https://visio.exemple.test/cao" in description
    assert vevent.organizer.value.startswith("mailto:") and vevent.organizer.params["CN"] == ["Commune de Beaune"]
    [attendee] = vevent.contents["attendee"]
    assert attendee.value == "mailto:chantal@beaune.test"
    assert attendee.params["CN"] == ["Chantal Commission, présidente"]
    assert attendee.params["PARTSTAT"] == ["NEEDS-ACTION"] and attendee.params["ROLE"] == ["REQ-PARTICIPANT"]
    assert attendee.params["RSVP"] == ["FALSE"]
    assert str(event["conference"]) == "https://visio.exemple.test/cao"


@pytest.mark.parametrize(
    ("response", "partstat"),
    [("present", "ACCEPTED"), ("remote", "ACCEPTED"), ("absent", "DECLINED"), ("represented", "DELEGATED")],
)
def test_the_attendee_shows_the_members_answer(response, partstat):
    text = build(meeting(dt.datetime(2026, 12, 3, 14, 0, tzinfo=PARIS)), c=convocation(response, "consultative"))
    [attendee] = vobject.readOne(text).vevent.contents["attendee"]
    assert attendee.params["PARTSTAT"] == [partstat] and attendee.params["ROLE"] == ["OPT-PARTICIPANT"]


def test_update_and_cancel_keep_the_uid_and_raise_the_sequence():
    first = build(meeting(dt.datetime(2026, 12, 3, 14, 0, tzinfo=PARIS)))
    moved = build(
        meeting(dt.datetime(2026, 12, 4, 9, 30, tzinfo=PARIS), sequence=1),
        changes=["Date et heure : vendredi 4 décembre 2026 à 09:30"],
    )
    cancelled = build(meeting(dt.datetime(2026, 12, 4, 9, 30, tzinfo=PARIS), sequence=2), "CANCEL")
    parsed = [vobject.readOne(text) for text in (first, moved, cancelled)]
    assert len({calendar.vevent.uid.value for calendar in parsed}) == 1
    assert [int(calendar.vevent.sequence.value) for calendar in parsed] == [0, 1, 2]
    assert [calendar.method.value for calendar in parsed] == ["REQUEST", "REQUEST", "CANCEL"]
    assert parsed[2].vevent.status.value == "CANCELLED"
    assert "Date et heure : vendredi 4 décembre 2026 à 09:30" in parsed[1].vevent.description.value
    assert icalendar.Calendar.from_ical(cancelled).walk("VEVENT")[0]["status"] == "CANCELLED"


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError):
        build(meeting(dt.datetime(2026, 12, 3, 14, 0, tzinfo=PARIS)), "PUBLISH")


def test_content_type_carries_the_method():
    assert ics.content_type("CANCEL") == "text/calendar; method=CANCEL; charset=UTF-8"
