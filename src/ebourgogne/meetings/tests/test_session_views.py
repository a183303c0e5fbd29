"""The session pages through the test client: who sees and who runs the session (other buyer 404, a member
of another commission 404, a member of this one reads only), bad input answered with a message and
nothing stored, the passphrase form, the decision form and the closing forms."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.meetings import session
from ebourgogne.meetings.models import Decision, Meeting, MeetingState
from ebourgogne.meetings.tests.test_session_helpers import attendance_of, convened_meeting, make_panel
from ebourgogne.tenders.models import Opening
from ebourgogne.tenders.tests.opening_helpers import deposit, run_jobs
from ebourgogne.testing.factories import CompanyFactory, sign_in
from ebourgogne.testing.meetings import add_item
from ebourgogne.testing.sealing import opening_commission, sealed_consultation

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def panel(buyer):
    return make_panel(buyer)


def _url(meeting, name="session", *args):
    return reverse(f"meetings:{name}", args=[meeting.organisation.slug, meeting.pk, *args])


def _in_session(panel, agent, responses=None):
    meeting = convened_meeting(panel, responses=responses)
    return session.session_open(acting_user=agent, meeting=meeting)


def test_staff_open_the_session_from_the_page(client, panel, buyer_agent):
    meeting = convened_meeting(panel, responses={panel.president: "present", panel.second: "present"})
    sign_in(client, buyer_agent)
    page = client.get(_url(meeting))
    assert page.status_code == 200
    assert "Ouvrir la séance" in _text(page)
    response = client.post(_url(meeting, "session_open"))
    assert response.status_code == 302
    page = client.get(_url(meeting))
    text = _text(page)
    assert "Quorum atteint." in text
    assert f'name="status-{attendance_of(meeting)[panel.president.pk].pk}"' in text
    again = client.post(_url(meeting, "session_open"))
    assert again.status_code == 400
    assert "déjà ouverte" in _text(again)


def test_too_early_is_a_clear_refusal(client, panel, buyer_agent):
    meeting = convened_meeting(panel, starts_in=180)
    sign_in(client, buyer_agent)
    response = client.post(_url(meeting, "session_open"))
    assert response.status_code == 409
    assert "ne peut être ouverte qu'à partir du" in _text(response)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CONVENED


def test_a_member_reads_the_session_but_does_not_run_it(client, panel, buyer_agent):
    meeting = _in_session(panel, buyer_agent, {panel.president: "present", panel.second: "present"})
    sign_in(client, panel.second)
    page = client.get(_url(meeting))
    assert page.status_code == 200
    assert "Enregistrer les présences" not in _text(page)
    row = attendance_of(meeting)[panel.president.pk]
    refused = client.post(_url(meeting, "session_attendance"), {f"status-{row.pk}": "left"})
    assert refused.status_code == 403
    assert attendance_of(meeting)[panel.president.pk].status == "present"


def test_the_president_runs_the_session(client, panel, buyer_agent):
    meeting = convened_meeting(panel, responses={panel.president: "present", panel.second: "present"})
    sign_in(client, panel.president)
    assert client.post(_url(meeting, "session_open")).status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.IN_SESSION


def test_strangers_get_404(client, panel, buyer, buyer_agent, outsider, commission_member, other_buyer):
    meeting = _in_session(panel, buyer_agent)
    # A member of the buyer sitting in another commission.
    elsewhere = opening_commission(buyer, members=1, threshold=1, is_default=False).members[0]
    for user in (outsider, commission_member, elsewhere):
        client.logout()
        sign_in(client, user)
        assert client.get(_url(meeting)).status_code == 404, user
        assert client.post(_url(meeting, "session_close")).status_code == 404, user
    # The other buyer's own address does not lead to this meeting either.
    client.logout()
    sign_in(client, outsider)
    url = reverse("meetings:session", args=[other_buyer.slug, meeting.pk])
    assert client.get(url).status_code == 404
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.IN_SESSION


def test_attendance_bad_input_keeps_everything(client, panel, buyer_agent):
    meeting = _in_session(panel, buyer_agent, {panel.president: "present"})
    rows = attendance_of(meeting)
    sign_in(client, buyer_agent)
    response = client.post(
        _url(meeting, "session_attendance"),
        {
            f"status-{rows[panel.second.pk].pk}": "present",
            f"status-{rows[panel.third.pk].pk}": "represented",
            f"substitute-{rows[panel.third.pk].pk}": str(rows[panel.substitute.pk].pk),
        },
    )
    assert response.status_code == 400
    assert "doit être présent" in _text(response)
    assert attendance_of(meeting)[panel.second.pk].status == "absent"  # nothing saved
    nonsense = client.post(
        _url(meeting, "session_attendance"), {f"status-{rows[panel.second.pk].pk}": "asleep", "substitute-x": "y"}
    )
    assert nonsense.status_code == 400
    ok = client.post(
        _url(meeting, "session_attendance"),
        {
            f"status-{rows[panel.third.pk].pk}": "represented",
            f"substitute-{rows[panel.third.pk].pk}": str(rows[panel.substitute.pk].pk),
            f"status-{rows[panel.substitute.pk].pk}": "present",
        },
    )
    assert ok.status_code == 302
    assert attendance_of(meeting)[panel.third.pk].represented_by_id == rows[panel.substitute.pk].pk


def test_decision_form(client, panel, buyer_agent):
    meeting = _in_session(panel, buyer_agent, {panel.president: "present", panel.second: "present"})
    item = add_item(meeting, title="Avenant au marché de voirie")
    sign_in(client, buyer_agent)
    url = _url(meeting, "session_decision", item.pk)
    too_many = client.post(
        url, {"kind": "other", "text": "Avis favorable.", "vote_held": "on", "votes_for": "2", "abstentions": "1"}
    )
    assert too_many.status_code == 400
    assert "plus de voix que de votants" in _text(too_many)
    not_a_number = client.post(url, {"kind": "other", "text": "x", "vote_held": "on", "votes_for": "beaucoup"})
    assert not_a_number.status_code == 400
    with scopes_disabled():
        assert not Decision.objects.exists()
    ok = client.post(url, {"kind": "other", "text": "Avis favorable.", "vote_held": "on", "votes_for": "2"})
    assert ok.status_code == 302
    with scopes_disabled():
        decision = Decision.objects.get()
    assert (decision.votes_for, decision.votes_against, decision.abstentions) == (2, 0, 0)
    page = client.get(_url(meeting))
    assert "Vote : 2 pour, 0 contre, 0 abstention(s)." in _text(page)
    other = convened_meeting(panel)
    assert (
        client.post(_url(meeting, "session_decision", add_item(other).pk), {"kind": "other", "text": "x"}).status_code
        == 404
    )


def test_passphrases_typed_in_session(client, panel, buyer, buyer_agent, django_capture_on_commit_callbacks):
    sealed = sealed_consultation(buyer, acting_user=buyer_agent, commission=panel.opening)
    deposit(sealed.consultation, CompanyFactory(name="Maçonnerie de l'Auxois"), [("offre.pdf.age", b"%PDF")])
    with scopes_disabled():
        Consultation.objects.filter(pk=sealed.consultation.pk).update(
            bids_deadline=clock.now() - dt.timedelta(minutes=1)
        )
    meeting = _in_session(panel, buyer_agent, {panel.president: "present", panel.second: "present"})
    item = add_item(meeting, kind="opening", consultation=sealed.consultation)
    sign_in(client, buyer_agent)
    page = client.get(_url(meeting))
    field = f'id="passphrase-{item.pk}-{panel.president.pk}"'
    assert field in _text(page)
    assert 'type="password"' in _text(page) and 'autocomplete="off"' in _text(page)
    assert f'passphrase-{item.pk}-{panel.third.pk}"' not in _text(page)  # absent: no field
    url = _url(meeting, "session_open_bids", item.pk)
    wrong = client.post(
        url,
        {
            f"passphrase-{panel.president.pk}": panel.passphrase(panel.president),
            f"passphrase-{panel.second.pk}": "faux",
        },
    )
    assert wrong.status_code == 400
    assert panel.second.full_name in _text(wrong)
    assert "faux" not in _text(wrong)
    with scopes_disabled():
        assert not Opening.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            url,
            {
                f"passphrase-{panel.president.pk}": panel.passphrase(panel.president),
                f"passphrase-{panel.second.pk}": panel.passphrase(panel.second),
            },
        )
    assert ok.status_code == 302
    assert "Ouverture en cours." in _text(client.get(_url(meeting)))
    progress_url = _url(meeting, "session_opening_progress", item.pk)
    polled = client.get(progress_url, headers={"HX-Request": "true"})
    assert polled.status_code == 200
    assert "0 fichier(s) déchiffré(s) sur 1." in _text(polled)
    with scopes_disabled():
        run_jobs(Opening.objects.get())
    done = client.get(progress_url, headers={"HX-Request": "true"})
    assert done.status_code == 204
    assert done["HX-Redirect"].endswith(f"#point-{item.pk}")
    assert client.get(progress_url).status_code == 302
    assert "Procès-verbal d'ouverture" in _text(client.get(_url(meeting)))


def test_close_without_quorum_from_the_page(client, panel, buyer_agent):
    meeting = _in_session(panel, buyer_agent, {panel.president: "present"})
    sign_in(client, buyer_agent)
    page = client.get(_url(meeting))
    assert "Quorum non atteint." in _text(page)
    assert client.post(_url(meeting, "session_close")).status_code == 400
    bad = client.post(_url(meeting, "session_close_without_quorum"), {"starts_at": "demain"})
    assert bad.status_code == 400
    past = client.post(_url(meeting, "session_close_without_quorum"), {"starts_at": "2020-01-01T10:00"})
    assert past.status_code == 400
    assert "dans le futur" in _text(past)
    when = (clock.now() + dt.timedelta(days=8)).astimezone(dt.UTC).strftime("%Y-%m-%dT10:00")
    ok = client.post(_url(meeting, "session_close_without_quorum"), {"starts_at": when})
    assert ok.status_code == 302
    with scopes_disabled():
        follower = Meeting.objects.get(follows=meeting)
    assert follower.state == MeetingState.DRAFT
    assert follower.starts_at.astimezone(session.PARIS).hour == 10
