"""The iCalendar invitation (RFC 5545, with the iTIP methods of RFC 5546) attached to every convocation.

One invitation per convened member, so that each calendar shows that member as the attendee:

- `METHOD:REQUEST` for the convocation and for every update: the meeting's `UID` never changes, the
  `SEQUENCE` is the meeting's (raised by every change sent), so calendars replace the event instead of
  adding a second one. `METHOD:CANCEL` with `STATUS:CANCELLED`, same UID, for a cancellation (of the
  meeting, or of one member's convocation: a substitute no longer needed).
- Times: `DTSTART`/`DTEND` in local Paris time with `TZID=Europe/Paris` and a VTIMEZONE giving the EU
  rule (last Sunday of March / October) as RRULEs, which every client understands and which, unlike a
  list of dates, has no end year. `DTSTAMP` in UTC. A meeting without a planned end lasts
  `DEFAULT_DURATION`.
- `ORGANIZER` is the buyer (common name) at the platform's sender address; `ATTENDEE` the member, with
  `PARTSTAT` from their answer (NEEDS-ACTION, ACCEPTED, DECLINED, DELEGATED) and `RSVP=FALSE`: answers are
  given through the secure link, where they are recorded with their evidence, not by calendar replies
  (which would reach a no-reply address).
- `LOCATION` the place, `URL` the member's page of the meeting (sign-in required, unlike the personal
  link, so a forwarded invitation opens nothing), `CONFERENCE` (RFC 7986) the video link, `DESCRIPTION`
  the agenda (and, for an update, what changed).

Texts are in the member's language (the caller activates it).
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from typing import Any

import icalendar
from django.conf import settings
from django.utils.translation import gettext as _

from ebourgogne.core.clock import PARIS

PRODID = "-//e-bourgogne//Convocations des commissions//FR"
DEFAULT_DURATION = dt.timedelta(hours=2)
TZID = "Europe/Paris"

PARTSTAT = {
    "pending": "NEEDS-ACTION",
    "present": "ACCEPTED",
    "remote": "ACCEPTED",
    "absent": "DECLINED",
    "represented": "DELEGATED",
}


def paris_timezone() -> icalendar.Timezone:
    """VTIMEZONE of Europe/Paris with the EU daylight-saving rule (since 1996) as RRULEs."""
    zone = icalendar.Timezone()
    zone.add("tzid", TZID)
    daylight = icalendar.TimezoneDaylight()
    daylight.add("tzname", "CEST")
    daylight.add("tzoffsetfrom", dt.timedelta(hours=1))
    daylight.add("tzoffsetto", dt.timedelta(hours=2))
    daylight.add("dtstart", dt.datetime(1996, 3, 31, 2, 0))  # noqa: DTZ001 - local time of the rule
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    standard = icalendar.TimezoneStandard()
    standard.add("tzname", "CET")
    standard.add("tzoffsetfrom", dt.timedelta(hours=2))
    standard.add("tzoffsetto", dt.timedelta(hours=1))
    standard.add("dtstart", dt.datetime(1996, 10, 27, 3, 0))  # noqa: DTZ001 - local time of the rule
    standard.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    zone.add_component(daylight)
    zone.add_component(standard)
    return zone


def _local(moment: dt.datetime) -> icalendar.vDDDTypes:
    """A Paris wall-clock time with TZID=Europe/Paris (the VTIMEZONE above defines it)."""
    local = moment.astimezone(PARIS).replace(tzinfo=None)
    value = icalendar.vDDDTypes(local)
    value.params["TZID"] = TZID
    return value


def organizer_address() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "ne-pas-repondre@e-bourgogne.fr"


def meeting_end(meeting: Any) -> dt.datetime:
    return meeting.ends_at or meeting.starts_at + DEFAULT_DURATION


def build(
    *,
    meeting: Any,
    convocation: Any,
    method: str,
    now: dt.datetime,
    agenda: list[str],
    url: str,
    changes: list[str] | None = None,
) -> str:
    """The invitation for `convocation` (a member of `meeting`) as text (CRLF lines, UTF-8).

    `agenda`: the agenda items' titles in order; `url`: the member's page of the meeting; `changes`: for an
    update, readable lines saying what changed. `method` is "REQUEST" or "CANCEL"."""
    if method not in {"REQUEST", "CANCEL"}:
        raise ValueError(f"unsupported iTIP method {method!r}")
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(paris_timezone())

    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", _local(meeting.starts_at))
    event.add("dtend", _local(meeting_end(meeting)))
    event.add("summary", f"{meeting.title} — {meeting.commission.name}")
    if meeting.place:
        event.add("location", meeting.place)
    event.add("url", url)
    if meeting.video_url:
        conference = icalendar.vUri(meeting.video_url)
        conference.params["VALUE"] = "URI"
        conference.params["FEATURE"] = "VIDEO"
        conference.params["LABEL"] = _("Visioconférence")
        event.add("conference", conference)

    lines: list[str] = []
    if method == "CANCEL":
        lines.append(_("Cette convocation est annulée."))
    if changes:
        lines.append(_("Modifications :"))
        lines.extend(f"- {change}" for change in changes)
        lines.append("")
    if agenda:
        lines.append(_("Ordre du jour :"))
        lines.extend(f"{number}. {title}" for number, title in enumerate(agenda, start=1))
        lines.append("")
    if meeting.video_url:
        lines.append(_("Visioconférence : %(url)s") % {"url": meeting.video_url})
    lines.append(_("Votre page de la séance (accusé de réception, réponse, documents) : %(url)s") % {"url": url})
    event.add("description", "\n".join(lines))

    organizer = icalendar.vCalAddress(f"mailto:{organizer_address()}")
    organizer.params["CN"] = meeting.organisation.name
    event.add("organizer", organizer)
    attendee = icalendar.vCalAddress(f"mailto:{convocation.user.email}")
    attendee.params["CN"] = convocation.user.full_name or convocation.user.email
    attendee.params["ROLE"] = "REQ-PARTICIPANT" if convocation.voice == "deliberative" else "OPT-PARTICIPANT"
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["PARTSTAT"] = PARTSTAT.get(convocation.response, "NEEDS-ACTION")
    attendee.params["RSVP"] = "FALSE"
    event.add("attendee", attendee)
    if method == "CANCEL":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical().decode()


def content_type(method: str) -> str:
    return f"text/calendar; method={method}; charset=UTF-8"
