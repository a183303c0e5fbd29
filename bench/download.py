"""Benchmark `download`: throughput of a 1 GB DCE file through the platform, as a ratio to nginx serving the
same file on the same machine in the same run.

Method (docs/benchmarks.md, section "download"): a fresh data folder and database (SQLite in the folder, or
a throw-away database on the PostgreSQL server of DATABASE_URL); a buyer, a consultation published with
one file of 1 GB of random bytes uploaded through `dce.services.upload_file` (64 MB with --quick). Then
in the same run, on loopback, one client (curl, body to /dev/null) downloads the file from:
  - nginx:  nginx (Debian's, installed with apt-get when missing) serving the media folder directly;
  - app:    `ebourgogne serve` (gunicorn, production mode) alone, the public download URL: access check,
            register row, FileResponse handed to gunicorn's sendfile();
  - accel:  nginx in front of a second `ebourgogne serve` started with EBOURGOGNE_X_ACCEL_REDIRECT=/_dce/:
            the platform checks and records the download, nginx sends the file (X-Accel-Redirect).
in rounds (nginx, app, accel in turn); each figure is the median of its rounds, in MB/s.
ratio = app / nginx (goal ≥ 0.3); accel_ratio = accel / nginx (goal ≥ 0.8); met when both are.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.pages import _database, _environment, _free_port, _run, _server

NAME = "download"
DESCRIPTION = (
    "Throughput of a 1 GB DCE file served by the platform alone and through nginx with X-Accel-Redirect, as "
    "ratios to nginx serving the same file, one curl client on loopback. Goals: app >= 0.3, X-Accel >= 0.8."
)
GOAL = 0.3
ACCEL_GOAL = 0.8

FULL = {"size_mb": 1024, "rounds": 5}
QUICK = {"size_mb": 64, "rounds": 2}

PROXY_HEADERS = {"X-Forwarded-Proto": "https"}

PREPARE = r"""
import json, os, sys
import django
os.environ["DJANGO_SETTINGS_MODULE"] = "ebourgogne.settings"
django.setup()
from django.core.files import File
from django.core.management import call_command
from django_scopes import scopes_disabled

call_command("migrate", verbosity=0)
from ebourgogne.consultations.signals import consultation_published
from ebourgogne.core import clock
from ebourgogne.dce import services
from ebourgogne.dce.models import DceFile
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import BuyerFactory, ConsultationFactory, make_member

buyer = BuyerFactory(name="Commune de Beaune")
agent = make_member(buyer, Role.BUYER_AGENT)
consultation = ConsultationFactory(organisation=buyer, title="Construction du groupe scolaire")
source = sys.argv[1]
with open(source, "rb") as handle:
    services.upload_file(
        acting_user=agent, consultation=consultation, uploaded=File(handle, name="Plans et maquette.bin")
    )
with scopes_disabled():
    consultation.state = "published"
    consultation.published_at = clock.now()
    consultation.save()
    consultation_published.send(sender=None, consultation=consultation)
    dce_file = DceFile.objects.get(consultation=consultation)
# No ZIP build during the measure: the benchmark is about the single file.
from django_tasks_db.models import DBTaskResult
DBTaskResult.objects.all().delete()
print(json.dumps({"pk": consultation.pk, "file_id": dce_file.pk, "storage_name": dce_file.storage_name,
                  "size": dce_file.size, "sha256": dce_file.sha256}))
"""


def log(message: str) -> None:
    print(f"[download] {message}", file=sys.stderr, flush=True)


def _nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    log("nginx is missing: installing Debian's nginx-light…")
    for package in ("nginx-light", "nginx"):
        result = subprocess.run(  # noqa: S603
            ["apt-get", "install", "-y", "--no-install-recommends", package],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        if result.returncode == 0 and Path("/usr/sbin/nginx").exists():
            return "/usr/sbin/nginx"
    raise RuntimeError("could not install nginx (apt-get install nginx-light): install it and run again")


def _nginx_config(prefix: Path, media: Path, direct_port: int, proxy_port: int, app_port: int) -> str:
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the benchmark's private folder
    temp = "\n".join(
        f"  {name}_temp_path {prefix / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}
worker_processes auto;
daemon off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
{temp}
  server {{
    listen 127.0.0.1:{direct_port};
    location /media/ {{ alias {media}/; }}
  }}
  server {{
    listen 127.0.0.1:{proxy_port};
    location /_dce/ {{ internal; alias {media}/; }}
    location / {{
      proxy_pass http://127.0.0.1:{app_port};
      proxy_http_version 1.1;
      proxy_set_header Host 127.0.0.1;
      proxy_set_header X-Forwarded-Proto https;
    }}
  }}
}}
"""


@contextmanager
def _nginx(binary: str, prefix: Path, config: str, port: int):
    prefix.mkdir(parents=True, exist_ok=True)
    config_file = prefix / "nginx.conf"
    config_file.write_text(config)
    process = subprocess.Popen(  # noqa: S603
        [binary, "-p", str(prefix), "-c", str(config_file)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {process.stderr.read().decode() if process.stderr else ''}")
            try:
                import socket

                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _curl(url: str, headers: dict[str, str]) -> tuple[int, int, float]:
    """(status, bytes, seconds) of one download with curl, the body thrown away."""
    args = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    result = subprocess.run([*args, url], capture_output=True, text=True, check=False)  # noqa: S603
    status, size, seconds = result.stdout.split()
    return int(status), int(size), float(seconds)


def _make_source(path: Path, size_mb: int) -> None:
    block = 1024 * 1024
    with path.open("wb") as out:
        for _ in range(size_mb):
            out.write(os.urandom(block))


def run(quick: bool) -> dict:
    plan = QUICK if quick else FULL
    if not shutil.which("curl"):
        raise RuntimeError("curl is needed to measure downloads (apt-get install curl)")
    nginx = _nginx_binary()
    with tempfile.TemporaryDirectory(prefix="ebourgogne-bench-download-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        with _database(data_dir) as database_url:
            app_port, accel_app_port = _free_port(), _free_port()
            direct_port, proxy_port = _free_port(), _free_port()
            env = _environment(data_dir, database_url, app_port)
            source = Path(tmp) / "source.bin"
            log(f"writing {plan['size_mb']} MB of random bytes…")
            _make_source(source, plan["size_mb"])
            log("migrating and uploading the file through dce.services.upload_file…")
            started = time.perf_counter()
            prepared = json.loads(_run([sys.executable, "-c", PREPARE, str(source)], env).strip().splitlines()[-1])
            log(f"prepared in {time.perf_counter() - started:.1f} s: {prepared}")
            source.unlink()
            media = data_dir / "media"
            path = f"/consultations/{prepared['pk']}/dce/fichiers/{prepared['file_id']}/"
            accel_env = {
                **env,
                "EBOURGOGNE_BIND": f"127.0.0.1:{accel_app_port}",
                "EBOURGOGNE_X_ACCEL_REDIRECT": "/_dce/",
            }
            targets = {
                "nginx": (f"http://127.0.0.1:{direct_port}/media/{prepared['storage_name']}", {}),
                "app": (f"http://127.0.0.1:{app_port}{path}", PROXY_HEADERS),
                "accel": (f"http://127.0.0.1:{proxy_port}{path}", {}),
            }
            config = _nginx_config(Path(tmp) / "nginx", media, direct_port, proxy_port, accel_app_port)
            with (
                _server(env, app_port, data_dir / "serve.log", PROXY_HEADERS),
                _server(accel_env, accel_app_port, data_dir / "serve-accel.log", PROXY_HEADERS),
                _nginx(nginx, Path(tmp) / "nginx", config, proxy_port),
            ):
                speeds: dict[str, list[float]] = {key: [] for key in targets}
                for key, (url, headers) in targets.items():  # warm-up, and check each path is what we think
                    status, size, _seconds = _curl(url, headers)
                    if status != 200 or size != prepared["size"]:
                        raise RuntimeError(f"{key}: {url} answered {status} with {size} bytes, not 200 with the file")
                for number in range(1, plan["rounds"] + 1):
                    for key, (url, headers) in targets.items():
                        status, size, seconds = _curl(url, headers)
                        if status != 200 or size != prepared["size"]:
                            raise RuntimeError(f"{key}: {status}, {size} bytes")
                        speeds[key].append(size / seconds / 1e6)
                        log(f"round {number} {key:5} {speeds[key][-1]:9.1f} MB/s ({seconds:.3f} s)")
            registered = _count_downloads(env)
    medians = {key: statistics.median(values) for key, values in speeds.items()}
    ratio = round(medians["app"] / medians["nginx"], 3)
    accel_ratio = round(medians["accel"] / medians["nginx"], 3)
    expected = 2 * (plan["rounds"] + 1)  # app and accel downloads are recorded, nginx's direct ones are not
    return {
        "name": NAME,
        "ratio": ratio,
        "goal": GOAL,
        "met": bool(ratio >= GOAL and accel_ratio >= ACCEL_GOAL and registered == expected),
        "accel_ratio": accel_ratio,
        "accel_goal": ACCEL_GOAL,
        "file_mb": plan["size_mb"],
        "rounds": plan["rounds"],
        "mb_per_s": {key: round(value, 1) for key, value in medians.items()},
        "mb_per_s_rounds": {key: [round(v, 1) for v in values] for key, values in speeds.items()},
        "downloads_registered": registered,
        "downloads_expected": expected,
        "database": "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite",
        "cpu_cores": len(os.sched_getaffinity(0)),
    }


def _count_downloads(env: dict[str, str]) -> int:
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'ebourgogne.settings'; django.setup()\n"
        "from django_scopes import scopes_disabled\n"
        "from ebourgogne.dce.models import Download\n"
        "with scopes_disabled(): print(Download.objects.count())"
    )
    return int(_run([sys.executable, "-c", code], env).strip().splitlines()[-1])
