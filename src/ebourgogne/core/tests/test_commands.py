"""`ebourgogne demo` and `ebourgogne demo-code`: the data they load, and the demo running for real."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import validate_totp_code
from allauth.mfa.utils import encrypt
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.core import demo
from ebourgogne.core.tests.servers import child_env, ebourgogne, free_port, run, server
from ebourgogne.organisations.models import BuyerService, Membership, Organisation
from ebourgogne.organisations.roles import OrganisationKind, Role

User = get_user_model()


def _counts() -> dict[str, int]:
    with scopes_disabled():
        return {
            "users": User.objects.count(),
            "organisations": Organisation.objects.count(),
            "memberships": Membership.objects.count(),
            "services": BuyerService.objects.count(),
            "authenticators": Authenticator.objects.count(),
        }


@pytest.mark.django_db
def test_demo_data_loads_on_an_empty_database_and_is_not_duplicated(capsys):
    assert not demo.is_loaded()
    call_command("demo", "--no-serve")
    assert demo.is_loaded()
    loaded = _counts()

    with scopes_disabled():
        kinds = set(Organisation.objects.values_list("kind", flat=True))
        assert kinds == {OrganisationKind.BUYER, OrganisationKind.COMPANY, OrganisationKind.PLATFORM}
        buyer_kinds = set(Organisation.objects.filter(kind="buyer").values_list("buyer_kind", flat=True))
        assert {"region", "departement", "commune"} <= buyer_kinds
        assert BuyerService.objects.filter(organisation__name="Ville de Beaune").count() == 2
        roles = set(Membership.objects.values_list("role", flat=True))
        assert roles == set(Role.values), "every role has at least one demo holder"
        _assert_demo_meeting()
        _assert_demo_contract()

    for account in demo.ACCOUNTS:
        user = User.objects.get(email=account.email)
        assert user.check_password(demo.DEMO_PASSWORD)
        assert user.emailaddress_set.filter(verified=True, primary=True).exists()
        has_totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        assert has_totp == account.mfa, account.email

    output = capsys.readouterr().out
    assert demo.DEMO_PASSWORD in output
    assert demo.totp_secret_for("admin.region@e-bourgogne.test") in output

    call_command("demo", "--no-serve")
    assert _counts() == loaded
    assert "reusing" in capsys.readouterr().out


def _assert_demo_meeting() -> None:
    """The README's convened meeting: the Région's commission, the opening of 2026-LYC-009 on its agenda,
    one convocation per member, the one of Marc Dupuis opened, acknowledged and answered "present"."""
    from ebourgogne.meetings.models import Convocation, Meeting, MeetingState, Response

    meeting = Meeting.objects.get()
    assert meeting.state == MeetingState.CONVENED
    assert meeting.commission.organisation.name == "Région Bourgogne-Franche-Comté"
    assert [item.consultation.reference for item in meeting.items.exclude(consultation=None)] == [
        demo.MEETING_CONSULTATION
    ]
    convocations = Convocation.objects.filter(meeting=meeting)
    assert convocations.count() >= 3
    assert all(c.sent_at is not None for c in convocations)
    answered = convocations.exclude(response=Response.PENDING)
    assert [(c.user.email, c.response) for c in answered] == [("commission.region@e-bourgogne.test", Response.PRESENT)]
    assert answered[0].acknowledged_at is not None


def _assert_demo_contract() -> None:
    """The README's contract: notified to Travaux Publics de l'Auxois, its acte d'engagement signed by both
    parties (two PAdES signatures and their document timestamps, checked by pyHanko), its notification
    letter sent."""
    from django.core.files.storage import default_storage

    from ebourgogne.contracts.models import Contract, DocumentKind
    from ebourgogne.signatures import services as signing

    contract = Contract.objects.get()
    assert contract.state == "notified" and contract.holder.name == "Travaux Publics de l'Auxois"
    assert contract.notification_letter.sent_at is not None
    document = contract.documents.get(kind=DocumentKind.CONTRACT)
    assert document.buyer_signed_at and document.holder_signed_at
    with default_storage.open(document.storage_name, "rb") as handle:
        checks = signing.validate_pdf(handle.read())
    assert [check.kind for check in checks].count("signature") == 2 and all(check.ok for check in checks)


@pytest.mark.django_db
def test_demo_code_gives_a_code_that_the_login_accepts(client):
    demo.load(bulk=False)
    email = "agent.region@e-bourgogne.test"
    response = client.post(reverse("account_login"), {"login": email, "password": demo.DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")

    code = demo.current_code(email)
    assert len(code) == 6
    assert code.isdigit()
    assert validate_totp_code(demo.totp_secret_for(email), code)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302, response.content[:2000]
    assert client.get(reverse("accounts:home")).status_code == 200


@pytest.mark.django_db
def test_demo_code_refuses_accounts_that_are_not_pristine_demo_data(capsys):
    demo.load(bulk=False)
    call_command("demo-code", "commission.beaune@e-bourgogne.test")
    assert capsys.readouterr().out.strip().isdigit()

    User.objects.create_user(email="marie.curie@example.org", password="x" * 20)
    with pytest.raises(CommandError, match="not a demo account"):
        call_command("demo-code", "marie.curie@example.org")
    with pytest.raises(CommandError, match="password only"):
        call_command("demo-code", "admin.tp-auxois@e-bourgogne.test")

    # A demo account whose owner set up their own authenticator is no longer demo data.
    authenticator = Authenticator.objects.get(user__email="admin.cotedor@e-bourgogne.test", type="totp")
    authenticator.data = {"secret": encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")}
    authenticator.save()
    with pytest.raises(CommandError, match="its own authenticator"):
        call_command("demo-code", "admin.cotedor@e-bourgogne.test")


def test_demo_and_demo_code_refuse_production(tmp_path):
    env = child_env(tmp_path, EBOURGOGNE_PRODUCTION="1", EBOURGOGNE_SECRET_KEY="k" * 60)
    result = run(ebourgogne("demo", "--no-serve"), env)
    assert result.returncode != 0
    assert "refuses to run with EBOURGOGNE_PRODUCTION=1" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()
    result = run(ebourgogne("demo-code", "admin.region@e-bourgogne.test"), env)
    assert result.returncode != 0
    assert "refused" in result.stderr


def _user_count(env) -> int:
    result = run(
        ebourgogne("shell", "-c", "from ebourgogne.accounts.models import User; print(User.objects.count())"), env
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip().splitlines()[-1])


def test_demo_reuses_its_data_and_reset_starts_over(tmp_path):
    env = child_env(tmp_path / "data")
    first = run(ebourgogne("demo", "--no-serve"), env)
    assert first.returncode == 0, first.stderr
    assert "Loading the demo data" in first.stdout
    users = _user_count(env)
    (tmp_path / "data" / "media").mkdir(exist_ok=True)  # the demo stores its tender files there
    (tmp_path / "data" / "media" / "upload.txt").write_text("a file of the previous demo")

    extra = run(
        ebourgogne("shell", "-c", "from ebourgogne.accounts.models import User; User.objects.create_user('x@e.test')"),
        env,
    )
    assert extra.returncode == 0, extra.stderr
    again = run(ebourgogne("demo", "--no-serve"), env)
    assert again.returncode == 0, again.stderr
    assert "reusing" in again.stdout
    assert _user_count(env) == users + 1

    reset = run(ebourgogne("--data-dir", str(tmp_path / "data"), "demo", "--reset", "--no-serve"), env)
    assert reset.returncode == 0, reset.stderr
    assert "Loading the demo data" in reset.stdout
    assert _user_count(env) == users
    assert not (tmp_path / "data" / "media" / "upload.txt").exists()


def _wait_for_invitation_mails(env, link: str, timeout: float = 60) -> bool:
    import time

    script = (
        "from ebourgogne.notifications.models import OutboxMessage; "
        f"print(OutboxMessage.objects.filter(text_body__contains={link!r}).count())"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = run(ebourgogne("shell", "-c", script), env)
        if result.returncode == 0 and int(result.stdout.strip().splitlines()[-1]) > 0:
            return True
        time.sleep(1)
    return False


def test_demo_serves_the_platform(tmp_path):
    port = free_port()
    env = child_env(tmp_path)
    with server(ebourgogne("demo", "--port", str(port)), env, port, tmp_path / "demo.log") as running:
        # Migrating and loading the demo data comes first (about 30 s on a quiet 2-core machine, with the
        # contract's certificates and signatures); several times that on a loaded CI machine.
        running.wait_until_up("/healthz", timeout=300)
        status, headers, body = running.get("/")
        assert status == 200, body[:500]
        assert headers.get("server") == "e-bourgogne"  # waitress, not the development server
        status, _, body = running.get("/comptes/login/")
        assert status == 200
        status, _, body = running.get("/readyz")
        assert status == 200, body
        status, _, _ = running.get("/static/ebourgogne/css/ebourgogne.css")
        assert status == 200
        # The in-process worker sends the invitations queued while loading, with links to this server.
        assert _wait_for_invitation_mails(env, f"http://127.0.0.1:{port}/organisations/"), running.output()
    assert running.process.returncode == 0, running.output()
    output = running.output()
    assert f"running on http://127.0.0.1:{port}/" in output
    assert "exploitation@e-bourgogne.test" in output
    assert demo.DEMO_PASSWORD in output
    assert "Task worker and scheduler started" in output
    assert "Stopped." in output


def test_demo_says_when_the_port_is_taken(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(ebourgogne("demo", "--port", str(port)), child_env(tmp_path))
    assert result.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Loading the demo data" not in result.stdout  # said at once, before a minute of loading


def test_the_readme_lists_the_demo_logins():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text(encoding="utf-8")
    assert f"**`{demo.DEMO_PASSWORD}`**" in readme
    for account in demo.ACCOUNTS:
        assert f"| `{account.email}` | {account.full_name}, " in readme, account.email


def test_reset_never_touches_an_external_database(tmp_path):
    # Checked before any connection: the address need not answer.
    env = child_env(tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:9/elsewhere")
    result = run(ebourgogne("demo", "--reset", "--no-serve"), env)
    assert result.returncode != 0
    assert "--reset only deletes the embedded SQLite database" in result.stderr
