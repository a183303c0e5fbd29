"""Settings for the test suite: the production settings, with a throw-away data folder.

DATABASE_URL still chooses the database (SQLite by default, PostgreSQL in CI's second run).
"""

import os
import tempfile

os.environ.setdefault("EBOURGOGNE_DATA_DIR", tempfile.mkdtemp(prefix="ebourgogne-test-"))
os.environ.setdefault("EBOURGOGNE_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from ebourgogne.settings import *  # noqa: E402,F403

# Fast hashing in tests; argon2 stays the production hasher (checked in accounts tests).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.Argon2PasswordHasher"]

# Personal opening keys: age scrypt with a tiny work factor in tests (production: 18, about a second).
SEALING_SCRYPT_WORK_FACTOR = 4
