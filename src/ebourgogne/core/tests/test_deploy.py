"""Production mode: Django's deployment checks, and `ebourgogne serve` (gunicorn + whitenoise) for real."""

from __future__ import annotations

import gzip
import json
import re
import secrets

import pytest

from ebourgogne.core.tests.servers import child_env, ebourgogne, free_port, run, server

PUBLIC_HOST = "marches.e-bourgogne.example"


def production_env(data_dir, **extra):
    return child_env(
        data_dir,
        EBOURGOGNE_PRODUCTION="1",
        EBOURGOGNE_SECRET_KEY=secrets.token_urlsafe(60),
        EBOURGOGNE_ALLOWED_HOSTS=f"{PUBLIC_HOST},127.0.0.1",
        EBOURGOGNE_BASE_URL=f"https://{PUBLIC_HOST}",
        **extra,
    )


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = run(ebourgogne("check", "--deploy", "--fail-level", "WARNING"), production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_check_deploy_warns_outside_production_mode(tmp_path):
    # The same check does catch a development configuration: the test above cannot pass by accident.
    result = run(ebourgogne("check", "--deploy", "--fail-level", "WARNING"), child_env(tmp_path))
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS


def test_production_needs_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["EBOURGOGNE_SECRET_KEY"]
    result = run(ebourgogne("check"), env)
    assert result.returncode != 0
    assert "EBOURGOGNE_SECRET_KEY" in result.stderr


def test_serve_in_production_behind_a_proxy(tmp_path):
    """collectstatic, then gunicorn: probes over plain HTTP, pages over HTTPS from the proxy, static files
    with hashed names, long cache lifetime and compressed variants."""
    port = free_port()
    env = production_env(
        tmp_path,
        EBOURGOGNE_BEHIND_PROXY="1",
        EBOURGOGNE_BIND=f"127.0.0.1:{port}",
        EBOURGOGNE_WORKERS="1",
        EBOURGOGNE_THREADS="2",
    )
    for command in (("migrate", "--no-input", "-v0"), ("collectstatic", "--no-input", "-v0")):
        result = run(ebourgogne(*command), env, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr

    with server(ebourgogne("serve"), env, port, tmp_path / "serve.log") as running:
        running.wait_until_up("/healthz")
        status, _, body = running.get("/readyz")
        assert status == 200, body
        assert all(check["ok"] for check in json.loads(body)["checks"].values())

        # A visitor's plain-HTTP request is sent to HTTPS.
        status, headers, _ = running.get("/", {"Host": PUBLIC_HOST})
        assert status == 301
        assert headers["location"] == f"https://{PUBLIC_HOST}/"

        # Through the TLS-terminating proxy: the page, with HSTS and secure cookies.
        proxied = {"Host": PUBLIC_HOST, "X-Forwarded-Proto": "https"}
        status, headers, page = running.get("/", proxied)
        assert status == 200, page[:500]
        assert "max-age=31536000" in headers["strict-transport-security"]
        stylesheet = re.search(rb'href="(/static/[^"]+\.css)"', page)
        assert stylesheet, page[:1000]
        path = stylesheet.group(1).decode()
        assert re.search(r"\.[0-9a-f]{12}\.css$", path), f"not a hashed file name: {path}"

        status, headers, _ = running.get(path, proxied)
        assert status == 200
        assert "immutable" in headers["cache-control"]
        assert "max-age=315360000" in headers["cache-control"]
        # A file large enough to be worth compressing is sent compressed to browsers that accept it.
        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
        large = "/static/" + manifest["paths"]["admin/css/base.css"]
        status, headers, body = running.get(large, {**proxied, "Accept-Encoding": "gzip"})
        assert status == 200
        assert headers.get("content-encoding") == "gzip"
        assert gzip.decompress(body).startswith(b"/*")

        status, _, _ = running.get("/no-such-page/", proxied)
        assert status == 404

    assert running.process.returncode == 0, running.output()
    assert re.search(r'"GET /readyz HTTP/1.1" 200 \d+ .*\d+ms', running.output()), "access log line missing"


@pytest.mark.parametrize("variable", ["EBOURGOGNE_WORKERS", "EBOURGOGNE_THREADS", "EBOURGOGNE_TIMEOUT"])
def test_serve_refuses_a_bad_number(tmp_path, variable):
    result = run(ebourgogne("serve"), child_env(tmp_path, **{variable: "many"}), timeout=60)
    assert result.returncode != 0
    assert f"{variable} must be a whole number" in result.stderr
