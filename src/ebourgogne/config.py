"""Every environment variable the platform reads, in one place.

`settings.py` reads configuration only through `env()`, so this registry is the complete list.
docs/deployment.md carries the same table (a test keeps them in step).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str


VARIABLES: dict[str, Variable] = {}


def _declare(name: str, default: str, help: str) -> None:
    VARIABLES[name] = Variable(name, default, help)


_declare(
    "EBOURGOGNE_DATA_DIR",
    "./var",
    "Folder for the embedded database, uploaded files, the demo secret key and the mail outbox.",
)
_declare(
    "EBOURGOGNE_PRODUCTION",
    "0",
    "1 in production: requires a secret key, turns on HTTPS-only cookies, HSTS and the deployment checks.",
)
_declare("EBOURGOGNE_DEBUG", "0", "1 shows Django's debug pages. Never in production.")
_declare(
    "EBOURGOGNE_SECRET_KEY",
    "",
    "Django's secret key (50+ random characters). Required in production; the demo generates one in the data folder.",
)
_declare("EBOURGOGNE_ALLOWED_HOSTS", "127.0.0.1,localhost", "Comma-separated host names the platform answers to.")
_declare(
    "EBOURGOGNE_CSRF_TRUSTED_ORIGINS",
    "",
    "Comma-separated origins (https://example.org) trusted for form posts, when behind a proxy on another host name.",
)
_declare(
    "EBOURGOGNE_BASE_URL", "http://127.0.0.1:8000", "Public address of the platform, used in links sent by e-mail."
)
_declare("EBOURGOGNE_BEHIND_PROXY", "0", "1 when a reverse proxy terminates TLS and sets X-Forwarded-Proto.")
_declare(
    "DATABASE_URL",
    "",
    "Database address, e.g. postgres://user:password@host:5432/ebourgogne. Empty: SQLite in the data folder.",
)
_declare(
    "REDIS_URL",
    "",
    "Redis address, e.g. redis://127.0.0.1:6379/0. When set, the cache and rate limits are shared through Redis.",
)
_declare(
    "EBOURGOGNE_TASKS_BACKEND",
    "",
    "database (the embedded default), redis (several nodes; needs REDIS_URL) or immediate (run at once, for tests). Empty: redis when REDIS_URL is set, else database.",
)
_declare("EBOURGOGNE_STORAGE", "local", "local (files in the data folder) or s3 (any S3-compatible object storage).")
_declare("EBOURGOGNE_S3_BUCKET", "", "Bucket name, with EBOURGOGNE_STORAGE=s3.")
_declare("EBOURGOGNE_S3_ENDPOINT_URL", "", "Endpoint of the S3-compatible service, with EBOURGOGNE_STORAGE=s3.")
_declare("EBOURGOGNE_S3_REGION", "", "Region of the bucket, with EBOURGOGNE_STORAGE=s3.")
_declare("EBOURGOGNE_S3_ACCESS_KEY", "", "Access key, with EBOURGOGNE_STORAGE=s3.")
_declare("EBOURGOGNE_S3_SECRET_KEY", "", "Secret key, with EBOURGOGNE_STORAGE=s3.")
_declare(
    "EBOURGOGNE_X_ACCEL_REDIRECT",
    "",
    "Internal location of a reverse proxy (nginx) that serves the media folder, e.g. /_dce/: DCE downloads are then handed to it with X-Accel-Redirect after the platform's checks. Empty: the platform streams the files itself.",
)
_declare("EBOURGOGNE_EMAIL", "outbox", "outbox (mails kept in the database, read by operators in the UI) or smtp.")
_declare("EBOURGOGNE_SMTP_HOST", "localhost", "SMTP server, with EBOURGOGNE_EMAIL=smtp.")
_declare("EBOURGOGNE_SMTP_PORT", "25", "SMTP port.")
_declare("EBOURGOGNE_SMTP_USER", "", "SMTP user name, if the server needs one.")
_declare("EBOURGOGNE_SMTP_PASSWORD", "", "SMTP password.")
_declare("EBOURGOGNE_SMTP_TLS", "0", "1 for STARTTLS.")
_declare("EBOURGOGNE_SMTP_SSL", "0", "1 for implicit TLS (port 465).")
_declare("EBOURGOGNE_FROM_EMAIL", "e-bourgogne <ne-pas-repondre@e-bourgogne.fr>", "Sender of the platform's e-mails.")
_declare("EBOURGOGNE_LOG_LEVEL", "INFO", "Log level of the platform's own loggers.")
# `ebourgogne serve` (gunicorn).
_declare(
    "EBOURGOGNE_BIND",
    "127.0.0.1:8000",
    "Address `ebourgogne serve` listens on: HOST:PORT (several separated by commas), or unix:/path/to/socket.",
)
_declare("EBOURGOGNE_WORKERS", "", "Server processes of `ebourgogne serve`. Empty: 2 × CPU cores + 1, at most 12.")
_declare(
    "EBOURGOGNE_THREADS",
    "4",
    "Threads per server process of `ebourgogne serve` (keep-alive connections are served by these threads).",
)
_declare(
    "EBOURGOGNE_TIMEOUT", "60", "Seconds a request may take before `ebourgogne serve` restarts the process handling it."
)
_declare(
    "EBOURGOGNE_ACCESS_LOG",
    "-",
    "Where `ebourgogne serve` writes its access log: - for standard output, a file path, or empty for none.",
)
_declare(
    "EBOURGOGNE_ACCESS_LOG_FORMAT",
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms',
    "Access log line format (gunicorn's access_log_format atoms); the default is the combined format plus the duration in milliseconds.",
)
_declare(
    "EBOURGOGNE_BENCH", "0", "1 only under `ebourgogne bench`: adds the benchmark's bare reference view to the URLs."
)
_declare(
    "EBOURGOGNE_OCDS_PREFIX",
    "ocds-ebourg",
    "OCDS ocid prefix of the published open data (ocds- and 6 characters, registered with the Open Contracting Partnership).",
)

# The RFC 3161 timestamp authority of bid receipts (ebourgogne.timestamping).
_declare(
    "EBOURGOGNE_TSA_URL",
    "",
    "Address of an external RFC 3161 timestamp authority (production), e.g. https://tsa.example.org/tsr. Empty: the platform's embedded authority signs the receipts' timestamp tokens itself.",
)
_declare(
    "EBOURGOGNE_TSA_USER",
    "",
    "User name for the external timestamp authority (HTTP basic authentication), if it needs one.",
)
_declare("EBOURGOGNE_TSA_PASSWORD", "", "Password for the external timestamp authority.")
_declare(
    "EBOURGOGNE_TSA_TIMEOUT",
    "5",
    "Seconds to wait for the external timestamp authority, asked right after each deposit is committed; past it the receipt stands without its token, fetched later by a task.",
)
_declare(
    "EBOURGOGNE_TSA_CA_FILE",
    "",
    "PEM file with the external timestamp authority's root certificate (and intermediates): used to verify tokens, published at /horodatage/ and in every receipt. Required with EBOURGOGNE_TSA_URL.",
)
_declare(
    "EBOURGOGNE_TSA_DIR",
    "",
    "Folder of the embedded timestamp authority: root.pem, tsa.pem (the TSA certificate, then intermediates) and tsa.key. Empty: <data folder>/timestamping, generated on first use (the root's private key is not kept).",
)

_declare(
    "EBOURGOGNE_BIDS_DIR",
    "",
    "Folder of the sealed bids (their encrypted files and the uploads in progress). Empty: <data folder>/bids. With several app nodes, one volume shared by all of them, with working flock and fsync.",
)

_declare(
    "EBOURGOGNE_VAULT_DIR",
    "",
    "Folder of the companies' vault files (encrypted at rest). Empty: <data folder>/vault. With several app nodes, one volume shared by all of them.",
)
_declare(
    "EBOURGOGNE_VAULT_PLATFORM_KEY",
    "",
    "Secret that wraps each company's vault data key. Empty: derived from EBOURGOGNE_SECRET_KEY. To change it: set the new value, put the old one in EBOURGOGNE_VAULT_PLATFORM_KEY_PREVIOUS, run `ebourgogne vault_rewrap`, then remove the old one.",
)
_declare(
    "EBOURGOGNE_VAULT_PLATFORM_KEY_PREVIOUS",
    "",
    "The previous vault platform key, during a key change only (read to unwrap the data keys that `ebourgogne vault_rewrap` has not re-wrapped yet).",
)
_declare(
    "EBOURGOGNE_SIGNATURES_CA_DIR",
    "",
    "Folder of the platform's signing CA, which issues signing certificates to members who have none: root.pem, ca.pem and the CA key. Empty: <data folder>/signing-ca, generated on first use. With several nodes, a shared folder.",
)
_declare(
    "EBOURGOGNE_ALERTS_UNSUBSCRIBE_MAILTO",
    "",
    "An address that processes unsubscribe requests by e-mail, offered in the List-Unsubscribe header besides the one-click https link. Empty: the https link only.",
)


def env(name: str) -> str:
    """The value of a declared variable, or its default."""
    variable = VARIABLES[name]
    return os.environ.get(name, variable.default)


def env_bool(name: str) -> bool:
    return env(name).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str) -> list[str]:
    return [item.strip() for item in env(name).split(",") if item.strip()]


def data_dir() -> Path:
    return Path(env("EBOURGOGNE_DATA_DIR")).expanduser().resolve()


def variables_table() -> str:
    """The Markdown table of docs/deployment.md: `uv run python -m ebourgogne.config > table.md`."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for variable in VARIABLES.values():
        default = f"`{cell(variable.default)}`" if variable.default else "(empty)"
        lines.append(f"| `{variable.name}` | {default} | {cell(variable.help)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(variables_table())
