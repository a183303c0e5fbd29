"""In-process measure of the `pages` endpoints: Django's WSGI application called in a loop, no HTTP server.

    uv run python bench/_wsgi_loop.py                    # SQLite in a temporary data folder
    DATABASE_URL=postgres://... uv run python bench/_wsgi_loop.py   # a throw-away PostgreSQL database

Same data and production settings as `bench pages` (bench/_prepare.py). For each endpoint: the statements
one request sends to the database (counted once), then the minimum over `--rounds` rounds of `--calls`
calls of this process's CPU time per request and, on PostgreSQL, of the database backend's CPU time per
request (read from /proc for the backend process of this connection: the server must run on this
machine). A developer's tool for comparing changes (docs/benchmarks.md, "Where the time goes"); not a
benchmark of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _backend_ticks(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def child(cookie: str, calls: int, rounds: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ebourgogne.wsgi import application

    def environ(path: str, signed_in: bool) -> dict:
        env = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_ACCEPT": "text/html",
            "HTTP_ACCEPT_LANGUAGE": "fr",
            "wsgi.url_scheme": "http",
            "wsgi.input": None,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        if signed_in:
            env["HTTP_COOKIE"] = cookie
        return env

    import io

    def call(env: dict) -> tuple[str, bytes]:
        env = dict(env, **{"wsgi.input": io.BytesIO(b"")})
        status = []
        response = application(env, lambda s, h, e=None: status.append(s))
        body = b"".join(response)
        response.close()
        return status[0], body

    endpoints = {
        "bare": environ("/bench/bare", False),
        "home": environ("/", False),
        "account": environ("/compte/", True),
    }
    extra = os.environ.get("WSGI_LOOP_EXTRA", "")
    for item in filter(None, extra.split(",")):
        name, _, path = item.partition("=")
        endpoints[name] = environ(path, False)
    results: dict = {}
    for env in endpoints.values():
        for _ in range(20):
            call(env)
    if os.environ.get("WSGI_LOOP_GC_FREEZE"):
        import gc

        gc.collect()
        gc.freeze()
    if os.environ.get("WSGI_LOOP_GC_THRESHOLD"):
        import gc

        gc.set_threshold(*(int(v) for v in os.environ["WSGI_LOOP_GC_THRESHOLD"].split(",")))
    profiled = os.environ.get("WSGI_LOOP_PROFILE")
    if profiled:
        import cProfile
        import pstats

        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(calls):
            call(endpoints[profiled])
        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        return {}
    for name, env in endpoints.items():
        for _ in range(50):
            status, body = call(env)
        if not status.startswith("200"):
            raise SystemExit(f"{name}: {status}")
        connection.force_debug_cursor = True
        with CaptureQueriesContext(connection) as captured:
            call(env)
        connection.force_debug_cursor = False
        statements = [query["sql"][:120] for query in captured.captured_queries]
        best = best_db = None
        for _ in range(rounds):
            pid = None
            if connection.vendor == "postgresql" and connection.connection is not None:
                pid = connection.connection.info.backend_pid
            db_before = _backend_ticks(pid)
            started = time.process_time()
            for _ in range(calls):
                call(env)
            cpu = (time.process_time() - started) / calls * 1000
            db = (_backend_ticks(pid) - db_before) / os.sysconf("SC_CLK_TCK") / calls * 1000
            best = cpu if best is None else min(best, cpu)
            best_db = db if best_db is None else min(best_db, db)
        results[name] = {
            "cpu_ms": round(best, 3),
            "db_server_cpu_ms": round(best_db, 3) if connection.vendor == "postgresql" else None,
            "statements": len(statements),
            "sql": statements,
        }
        print(f"{name:8} {best:.3f} ms  db {best_db:.3f} ms  {len(statements)} statements", file=sys.stderr)
    if os.environ.get("WSGI_LOOP_SQL") and connection.vendor == "postgresql":
        results["sql_costs"] = _sql_costs(connection, results["account"], calls)
    return results


def _sql_costs(connection, account: dict, calls: int) -> dict:
    """Client and backend CPU per statement, for SELECT 1 and the account page's statements (not prepared,
    then prepared by the server)."""
    from django.db import connection as django_connection

    from ebourgogne.accounts import current

    key = os.environ["WSGI_LOOP_SESSION_KEY"]
    django_connection.ensure_connection()
    raw = django_connection.connection
    pid = raw.info.backend_pid
    sql, template, positions, _compiler, _converters = current.session_with_person._compile("default")
    params = list(template)
    params[positions[0]] = key
    import psycopg

    costs = {}
    cases = {
        "select 1 (client cursor)": ("SELECT 1", None, False),
        "session+person (client cursor)": (sql, params, False),
    }
    plain = psycopg.connect(raw.info.dsn + " password=" if False else raw.info.dsn, autocommit=True)
    for name, (statement, arguments, _) in cases.items():
        for label, conn, prepare in (
            (name, raw, None),
            (name.replace("client cursor", "server binding, prepared"), plain, True),
        ):
            target_pid = conn.info.backend_pid
            cursor = conn.cursor()
            for _ in range(20):
                cursor.execute(statement, arguments, prepare=prepare) if prepare else cursor.execute(
                    statement, arguments
                )
                cursor.fetchall()
            before, started = _backend_ticks(target_pid), time.process_time()
            for _ in range(calls):
                cursor.execute(statement, arguments, prepare=prepare) if prepare else cursor.execute(
                    statement, arguments
                )
                cursor.fetchall()
            costs[label] = {
                "client_ms": round((time.process_time() - started) / calls * 1000, 3),
                "server_ms": round((_backend_ticks(target_pid) - before) / os.sysconf("SC_CLK_TCK") / calls * 1000, 3),
            }
            print(label, costs[label], file=sys.stderr)
    del pid
    return costs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--cookie", default="")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--buyers", type=int, default=200)
    parser.add_argument("--companies", type=int, default=2000)
    parser.add_argument("--consultations", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.cookie, args.calls, args.rounds)))
        return

    sys.path.insert(0, str(ROOT))
    from bench import pages

    with tempfile.TemporaryDirectory(prefix="ebourgogne-wsgi-") as tmp:
        data_dir = Path(tmp)
        with pages._database(data_dir) as database_url:
            env = pages._environment(data_dir, database_url, 8000)
            env["DJANGO_SETTINGS_MODULE"] = "ebourgogne.settings"
            prepared = json.loads(
                pages._run(
                    [
                        sys.executable,
                        str(ROOT / "bench" / "_prepare.py"),
                        "--buyers",
                        str(args.buyers),
                        "--companies",
                        str(args.companies),
                        "--consultations",
                        str(args.consultations),
                    ],
                    env,
                )
                .strip()
                .splitlines()[-1]
            )
            pages._run(pages._ebourgogne("collectstatic", "--no-input", "-v0"), env)
            if prepared.get("consultation"):
                pk = prepared["consultation"]["pk"]
                extra = f"search=/consultations/,consultation=/consultations/{pk}/"
                env["WSGI_LOOP_EXTRA"] = ",".join(filter(None, [env.get("WSGI_LOOP_EXTRA", ""), extra]))
            env["WSGI_LOOP_SESSION_KEY"] = prepared["session_cookie"].split("=", 1)[1]
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
            output = subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--cookie",
                    prepared["session_cookie"],
                    "--calls",
                    str(args.calls),
                    "--rounds",
                    str(args.rounds),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            sys.stderr.write(output.stderr)
            if output.returncode:
                raise SystemExit(output.returncode)
            print(output.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
