"""`ebourgogne demo`: the whole platform on one machine, in one process, with demo data.

Creates the data folder, migrates the embedded SQLite database, loads the demo data once, starts the
task worker and the periodic scheduler in threads, and serves with waitress (a production-grade,
multi-threaded WSGI server; not Django's development server). Run again, it reuses the data;
`--reset` deletes the database and files of the data folder and starts over.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from ebourgogne.core import demo

SQLITE_ENGINE = "django.db.backends.sqlite3"


class Command(BaseCommand):
    help = (
        "Run the platform with demo data: data folder, embedded database, task worker and scheduler, "
        "and an HTTP server on http://127.0.0.1:8000. Prints the demo logins."
    )
    requires_system_checks: list[str] = []  # run by hand below, after the data folder exists

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="TCP port to listen on (default 8000).")
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument(
            "--data-dir",
            help="Data folder (default: EBOURGOGNE_DATA_DIR, else ./var). Every ebourgogne command accepts it.",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the data folder's database and files, and start over."
        )
        parser.add_argument("--threads", type=int, default=8, help="HTTP server threads (default 8).")
        parser.add_argument("--no-serve", action="store_true", help="Prepare the data and print the logins, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "The demo creates accounts with published passwords: it refuses to run with EBOURGOGNE_PRODUCTION=1."
            )
        data_dir = Path(settings.DATA_DIR)
        if options["data_dir"] and Path(options["data_dir"]).expanduser().resolve() != data_dir:
            # `ebourgogne --data-dir` sets the folder before settings load; here it is too late to change.
            raise CommandError("Give --data-dir to the ebourgogne command itself (ebourgogne demo --data-dir PATH).")
        if not 0 < options["port"] < 65536:
            raise CommandError(f"--port must be between 1 and 65535, not {options['port']}.")
        if options["threads"] < 1:
            raise CommandError("--threads must be at least 1.")
        if "EBOURGOGNE_BASE_URL" not in os.environ:
            # Links in the demo's e-mails (sent while loading, too) point to this server.
            settings.BASE_URL = self._base_url(options["host"], options["port"])

        # Take the port first: a port already taken is said at once, not after a minute of loading.
        server = None if options["no_serve"] else self._listen(options["host"], options["port"], options["threads"])
        data_dir.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Data folder: {data_dir}")
        if options["reset"]:
            self._reset(data_dir)
        self.check(display_num_errors=False)

        self.stdout.write("Migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        if demo.is_loaded():
            self.stdout.write("Demo data already loaded: reusing it (--reset starts over).")
        else:
            self.stdout.write("Loading the demo data…")
            demo.load(progress=lambda message: self.stdout.write(f"  {message}"))

        if options["no_serve"]:
            self._print_logins(self._base_url(options["host"], options["port"]))
            return
        self._serve(server, options["host"], options["port"])

    # --- steps -------------------------------------------------------------------------------------

    def _reset(self, data_dir: Path) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"] != SQLITE_ENGINE:
            raise CommandError(
                "--reset only deletes the embedded SQLite database. DATABASE_URL points elsewhere: "
                "empty that database yourself, or unset DATABASE_URL."
            )
        connections.close_all()
        db_file = Path(database["NAME"])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        media = Path(settings.MEDIA_ROOT)
        if media.exists():
            shutil.rmtree(media)
        self.stdout.write(f"Reset: deleted {db_file.name} and the uploaded files.")

    def _base_url(self, host: str, port: int) -> str:
        shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104 - only for display
        if ":" in shown:
            shown = f"[{shown}]"
        return f"http://{shown}:{port}"

    def _listen(self, host: str, port: int, threads: int):  # noqa: ANN202 - waitress's server
        """The HTTP server bound to its port (requests wait in the socket's queue until `_serve` runs it)."""
        from waitress.server import create_server

        from ebourgogne.wsgi import application

        try:
            return create_server(application, host=host, port=port, threads=threads, ident="e-bourgogne")
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({error.strerror}). Is another server running? Try --port {port + 1}."
            ) from None

    def _serve(self, server, host: str, port: int) -> None:  # noqa: ANN001
        base_url = self._base_url(host, port)

        if host not in {"127.0.0.1", "localhost", "::1"} and "EBOURGOGNE_ALLOWED_HOSTS" not in os.environ:
            self.stderr.write(
                "Note: the platform answers only to the host names of EBOURGOGNE_ALLOWED_HOSTS "
                f"({', '.join(settings.ALLOWED_HOSTS)}); set it to the name or address you will use."
            )
        worker = self._start_worker()
        self._print_logins(base_url)
        self.stdout.write(self.style.SUCCESS(f"e-bourgogne is running on {base_url}/ — stop with Ctrl+C."))
        sys.stdout.flush()

        def stop(signum, frame):
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stdout.write("Stopping…")
            server.close()
            if worker is not None:
                worker.stop()
        self.stdout.write("Stopped.")

    def _start_worker(self):
        try:
            from ebourgogne.core.worker import start_in_process
        except ImportError:
            self.stderr.write("WARNING: no in-process task worker available; background tasks will not run.")
            return None
        handle = start_in_process()
        self.stdout.write("Task worker and scheduler started in this process.")
        return handle

    def _print_logins(self, base_url: str) -> None:
        write = self.stdout.write
        write("")
        write(self.style.MIGRATE_HEADING(f"Demo logins — {base_url}/comptes/login/"))
        write(f"Password of every account: {demo.DEMO_PASSWORD}")
        write(f"Opening-key passphrase of every commission member (sealed bids): {demo.DEMO_OPENING_PASSPHRASE}")
        write("Staff accounts sign in with a TOTP code: add the secret to an authenticator app,")
        write("or print the current code with: uv run ebourgogne demo-code EMAIL")
        write("")
        width = max(len(account.email) for account in demo.ACCOUNTS)
        who_width = max(len(f"{account.full_name}, {account.description}") for account in demo.ACCOUNTS)
        write(f"  {'E-mail'.ljust(width)}  {'Who'.ljust(who_width)}  TOTP secret")
        for account in demo.ACCOUNTS:
            who = f"{account.full_name}, {account.description}"
            write(f"  {account.email.ljust(width)}  {who.ljust(who_width)}  {account.totp_secret or '-'}")
        write("")
        write(f"E-mails sent by the platform land in the outbox: {base_url}/exploitation/courriels/ (operator).")
        write("")
