"""The convocation delay in clear days (« jours francs »), as a pure calendar computation.

The rule (CGCT L2121-12 for the municipal council, applied by habit and by most buyers' own rules to the
CAO; ../shared/docs/rules.md: "five clear days is the usual rule ... check the buyer's own rules"): the
convocation is sent at least N clear days before the meeting, N being `Commission.convocation_delay_days`
(five by default). A late convocation needs an explicit urgency reason and is flagged (meetings.services).

What "clear days" means here, exactly:

- A clear day is a **whole calendar day in Paris time**, from 00:00 to 24:00. The day the convocation is
  sent and the day of the meeting are **not counted**: only the days strictly between them are.
- So a convocation sent on day S for a meeting on day M is in time when `M - S - 1 >= N`, that is when
  S <= M - (N + 1). The latest moment is **23:59:59 Europe/Paris on day M - (N + 1)**: for a meeting on
  Monday 14:00 with five clear days, the convocation leaves by Tuesday of the week before, 23:59:59
  (Wednesday, Thursday, Friday, Saturday and Sunday are the five clear days).
- **Saturdays, Sundays and public holidays count** like any other day, and nothing is postponed to the
  next working day: the delay is a minimum of days granted to the members to prepare, not a time limit
  for them to act (Conseil d'État case law on the convocation of municipal councils). A buyer who wants
  working days sets a larger delay on the commission.
- The day is the **Paris calendar day**, whatever the UTC offset: a meeting at 00:30 on a Monday in Paris
  is a Monday meeting (Sunday 22:30 UTC); a convocation sent at 23:30 Paris time is sent that day. The
  days around a change of time (the last Sunday of March lasts 23 hours, the last Sunday of October 25)
  count as one day each: days are counted on the calendar, never as periods of 24 hours.
- The time of the meeting within its day does not matter (a meeting at 08:00 or at 18:00 on day M asks
  for the same latest sending day), nor does the time of sending within day S.
- Sending is the moment the platform sends the convocation (the "convene" action): the e-mails leave
  at once through the queue; each one's delivery is recorded apart (meetings.convocations).

`is_in_time` compares calendar days (so 23:59:59.999 on the last day is still in time, as the rule
means); `latest_send_time` gives the last second of that day, to show to the buyer.
"""

from __future__ import annotations

import datetime as dt

from ebourgogne.core.clock import PARIS

LAST_SECOND = dt.time(23, 59, 59)


def _paris_day(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed (the platform stores instants in UTC)")
    return moment.astimezone(PARIS).date()


def latest_send_day(starts_at: dt.datetime, days: int) -> dt.date:
    """The last Paris calendar day on which a convocation may be sent for a meeting at `starts_at`,
    leaving `days` clear days between the day of sending and the day of the meeting."""
    if days < 0:
        raise ValueError("the delay is a number of days, zero or more")
    return _paris_day(starts_at) - dt.timedelta(days=days + 1)


def latest_send_time(starts_at: dt.datetime, days: int) -> dt.datetime:
    """23:59:59 Europe/Paris on `latest_send_day` (an aware datetime in Paris time)."""
    return dt.datetime.combine(latest_send_day(starts_at, days), LAST_SECOND, tzinfo=PARIS)


def clear_days_between(sent_at: dt.datetime, starts_at: dt.datetime) -> int:
    """The clear days between a sending at `sent_at` and a meeting at `starts_at` (never negative): the
    whole Paris calendar days strictly between the two days."""
    return max((_paris_day(starts_at) - _paris_day(sent_at)).days - 1, 0)


def is_in_time(sent_at: dt.datetime, starts_at: dt.datetime, days: int) -> bool:
    """True when a convocation sent at `sent_at` leaves at least `days` clear days before the meeting."""
    return _paris_day(sent_at) <= latest_send_day(starts_at, days)
