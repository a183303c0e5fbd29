"""Benchmark `convocations`: convening 500 commissions of 8 members (4,000 e-mails with their invitation and
personal link) through the platform, as a ratio to a bare loop over Django's `send_mail`.

Method (docs/benchmarks.md, section "convocations"): a fresh data folder and database (SQLite in the folder,
or a throw-away database on DATABASE_URL's PostgreSQL server), the "database" task backend; one buyer with
N commissions (500; `--commissions`) of 8 deliberative titulars each (distinct people), each commission with
one meeting 10 days ahead and two agenda items. A real aiosmtpd server runs in a process of its own on
loopback (it counts and discards what it accepts, so parsing does not compete with the sender for the GIL).
The embedded timestamp authority's keys are made before the clock starts. Then, in one run:

  - bare (before): `django.core.mail.send_mail(subject, text, from, [to])` in a loop, 8 x N messages of the
    same subject and text as a platform convocation, to the same server (one SMTP connection per message,
    as `send_mail` does);
  - platform: for each meeting, what `meetings.services.meeting_convene` does (state convened, then
    `meetings.convocations.convene` in one transaction: a convocation per member, the mail rendered in
    the member's language, the signed link, the .ics, the `sent` evidence with its RFC 3161 token, the
    task queued after the commit), then the worker drains the queue (`core.worker.make_worker`, as
    `ebourgogne worker` does): each task records the delivery attempt and the delivery, each with a token,
    and sends the message with the .ics attached through Django's SMTP backend;
  - bare (after): the same loop again.

Timed: the platform from the first convene to the last message accepted by the server (convene + drain);
the bare loop from its first to its last message. messages/s each; ratio = platform / mean of the two
bare runs. Also reported: the convene and drain phases, and the evidence counts (3 tokens per message).

Run: `uv run python -m bench.convocations [--commissions 20]` (or `ebourgogne bench convocations`).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "convocations"
DESCRIPTION = (
    "Convening 500 commissions of 8 members (4,000 e-mails with .ics, signed links and timestamped evidence) "
    "through the task queue to a real aiosmtpd server, as messages/s and as a ratio to a bare loop over "
    "Django's send_mail of the same number of messages to the same server."
)
MEMBERS = 8
FULL = {"commissions": 500}
QUICK = {"commissions": 10}


def log(message: str) -> None:
    print(f"[convocations] {message}", file=sys.stderr, flush=True)


# -- The SMTP server, in a process of its own ------------------------------------------------------------


def _smtp_process(port_value, count_value, ready) -> None:  # noqa: ANN001 - multiprocessing values
    from aiosmtpd.controller import Controller

    from ebourgogne.testing.smtp import _free_port

    class Counter:
        async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
            with count_value.get_lock():
                count_value.value += 1
            return "250 Message accepted for delivery"

    port = _free_port()
    controller = Controller(Counter(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    port_value.value = port
    ready.set()
    while True:  # until terminated
        time.sleep(3600)


class SMTPSink:
    def __enter__(self):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.port = context.Value("i", 0)
        self.count = context.Value("i", 0)
        ready = context.Event()
        self.process = context.Process(target=_smtp_process, args=(self.port, self.count, ready), daemon=True)
        self.process.start()
        if not ready.wait(20):
            raise RuntimeError("the SMTP server did not start")
        return self

    def received(self) -> int:
        return self.count.value

    def wait_for(self, total: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.received() < total:
            if time.monotonic() > deadline:
                raise RuntimeError(f"SMTP server received {self.received()} of {total} messages")
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.join(10)


# -- The child: a fresh Django on the benchmark's data -----------------------------------------------------


def _seed(commissions: int):
    from django.contrib.auth import get_user_model
    from django_scopes import scopes_disabled

    from ebourgogne.commissions.models import Commission, CommissionMember
    from ebourgogne.testing.factories import BuyerFactory
    from ebourgogne.testing.meetings import add_item, make_meeting

    users = get_user_model()
    buyer = BuyerFactory(name="Région Bourgogne-Franche-Comté")
    people = users.objects.bulk_create(
        [
            users(
                email=f"membre{n}@commission.test",
                full_name=f"Membre de commission {n}",
                language="en" if n % 4 == 3 else "fr",
                password="!",  # noqa: S106 - unusable password: these people never sign in
            )
            for n in range(commissions * MEMBERS)
        ]
    )
    meetings = []
    with scopes_disabled():
        made = Commission.objects.bulk_create(
            [Commission(organisation=buyer, name=f"Commission d'appel d'offres {n + 1}") for n in range(commissions)]
        )
        CommissionMember.objects.bulk_create(
            [
                CommissionMember(commission=commission, user=person, is_president=index % MEMBERS == 0)
                for index, (commission, person) in enumerate(
                    (made[n // MEMBERS], people[n]) for n in range(commissions * MEMBERS)
                )
            ]
        )
        for commission in made:
            meeting = make_meeting(commission, days=10, video_url="https://visio.exemple.test/cao")
            add_item(meeting, kind="opening", title=f"Ouverture des plis : marché de travaux n° {commission.pk}")
            add_item(meeting, kind="other", title="Questions diverses")
            meetings.append(meeting)
    return meetings


def child(commissions: int) -> dict:
    os.environ["DJANGO_SETTINGS_MODULE"] = "ebourgogne.settings"
    import django

    django.setup()
    from django.core.mail import send_mail
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.tasks import task_backends
    from django.test.utils import override_settings
    from django_scopes import scopes_disabled

    from ebourgogne.core import clock
    from ebourgogne.core.worker import make_worker
    from ebourgogne.meetings import convocations
    from ebourgogne.meetings.models import ConvocationEvent, Meeting, MeetingState
    from ebourgogne.timestamping.authority import get_authority

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    meetings = _seed(commissions)
    log(f"seeded {commissions} commissions of {MEMBERS} in {time.perf_counter() - started:.1f} s")
    get_authority()  # the embedded TSA's keys are made now, not in the timed part
    total = commissions * MEMBERS

    with SMTPSink() as sink:
        mailers = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": sink.port.value, "use_tls": False, "timeout": 30},
            }
        }
        with override_settings(MAILERS=mailers):
            # The bare loop sends the subject and text of a real convocation (rendered here, not sent).
            from ebourgogne.meetings.models import Convocation

            with scopes_disabled():
                first = meetings[0]
                probe = Convocation(
                    pk=0, meeting=first, user=first.commission.members.first().user, voice="deliberative"
                )
                rendered = convocations._render(probe, kind="convocation")  # noqa: SLF001 - the platform's rendering
            subject, text = rendered["subject"], rendered["text"]

            def bare() -> float:
                before = sink.received()
                start = time.perf_counter()
                for n in range(total):
                    send_mail(subject, text, None, [f"membre{n}@commission.test"])
                sink.wait_for(before + total)
                return time.perf_counter() - start

            def platform() -> tuple[float, float]:
                before = sink.received()
                start = time.perf_counter()
                with scopes_disabled():
                    for meeting in meetings:
                        with transaction.atomic():
                            Meeting.objects.filter(pk=meeting.pk).update(
                                state=MeetingState.CONVENED, convened_at=clock.now()
                            )
                            meeting.state = MeetingState.CONVENED
                            convocations.convene(meeting=meeting, acting_user=None)
                convened = time.perf_counter()
                make_worker(backend=task_backends["default"], batch=True).run()
                sink.wait_for(before + total)
                return convened - start, time.perf_counter() - start

            log(f"bare loop: {total} messages")
            bare_before = bare()
            log(f"bare: {total / bare_before:.0f} msg/s; platform: {total} convocations")
            convene_seconds, platform_seconds = platform()
            log(f"platform: {total / platform_seconds:.0f} msg/s (convene {convene_seconds:.1f} s)")
            bare_after = bare()
            log(f"bare again: {total / bare_after:.0f} msg/s")
    with scopes_disabled():
        events = ConvocationEvent.objects.count()
        stamped = ConvocationEvent.objects.filter(timestamp_token__isnull=False).count()
        delivered = ConvocationEvent.objects.filter(kind="delivered").count()
    bare_rate = 2 * total / (bare_before + bare_after)
    platform_rate = total / platform_seconds
    return {
        "name": NAME,
        "commissions": commissions,
        "messages": total,
        "platform_msg_per_s": round(platform_rate, 1),
        "bare_msg_per_s": round(bare_rate, 1),
        "ratio": round(platform_rate / bare_rate, 3),
        "platform_seconds": round(platform_seconds, 2),
        "convene_seconds": round(convene_seconds, 2),
        "drain_seconds": round(platform_seconds - convene_seconds, 2),
        "bare_seconds": [round(bare_before, 2), round(bare_after, 2)],
        "events": events,
        "events_timestamped": stamped,
        "delivered": delivered,
        "database": connection.vendor,
        "cpu_count": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }


# -- The parent: a fresh data folder and database ----------------------------------------------------------


def run(quick: bool = False, commissions: int | None = None) -> dict:
    from bench.pages import _database

    commissions = commissions or (QUICK if quick else FULL)["commissions"]
    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-convocations-") as folder:
        with _database(Path(folder)) as database_url:
            env = {key: value for key, value in os.environ.items() if not key.startswith(("EBOURGOGNE_", "DJANGO_"))}
            env.pop("DATABASE_URL", None)
            env.update(
                {
                    "EBOURGOGNE_DATA_DIR": folder,
                    "EBOURGOGNE_SECRET_KEY": secrets.token_urlsafe(50),
                    "EBOURGOGNE_TASKS_BACKEND": "database",
                    "EBOURGOGNE_BASE_URL": "https://e-bourgogne.test",
                    "PYTHONUNBUFFERED": "1",
                }
            )
            if database_url:
                env["DATABASE_URL"] = database_url
            result = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "bench.convocations", "--child", "--commissions", str(commissions)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
                check=False,
                cwd=Path(__file__).resolve().parent.parent,
            )
            if result.returncode != 0:
                raise RuntimeError(f"bench convocations failed (exit {result.returncode})")
            figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["quick"] = quick
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--commissions", type=int, help=f"number of commissions of {MEMBERS} (default 500)")
    parser.add_argument("--quick", action="store_true", help="10 commissions")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.commissions)))
    else:
        print(json.dumps(run(arguments.quick, arguments.commissions), ensure_ascii=False))
