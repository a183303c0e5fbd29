"""Prepare a benchmark database: migrate, seed realistic data, open a session for a company member.

Run by the benchmarks in a child process whose environment points at the benchmark's own data folder
and database (never the caller's): `python bench/_prepare.py --buyers N --companies N --seed S`.
Prints one JSON line: the session cookie and what was seeded.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, required=True)
    parser.add_argument("--companies", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ebourgogne.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django_scopes import scopes_disabled

    from ebourgogne.organisations.models import Membership, Organisation
    from ebourgogne.organisations.roles import OrganisationKind, Role

    started = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    migrated = time.perf_counter()

    try:
        from ebourgogne.organisations.seeding import seed
    except ImportError:  # the generator is not there: a minimal data set instead
        seed = None
    if seed is not None:
        seed(buyers=args.buyers, companies=args.companies, seed=args.seed)
    seeded = time.perf_counter()

    with scopes_disabled():
        membership = (
            Membership.objects.filter(role=Role.COMPANY_MEMBER, organisation__kind=OrganisationKind.COMPANY)
            .exclude(user__memberships__role__in=[Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER])
            .select_related("user", "organisation")
            .order_by("pk")
            .first()
        )
        if membership is None:
            company = Organisation.objects.filter(kind=OrganisationKind.COMPANY).order_by("pk").first()
            if company is None:
                company = Organisation.objects.create(
                    kind=OrganisationKind.COMPANY, name="Menuiserie Bench", slug="menuiserie-bench", siren="732829320"
                )
            user = get_user_model().objects.create_user(email="bench.member@e-bourgogne.test", full_name="Bench")
            membership = Membership.objects.create(organisation=company, user=user, role=Role.COMPANY_MEMBER)
        user = membership.user
        counts = {
            "buyers": Organisation.objects.filter(kind=OrganisationKind.BUYER).count(),
            "companies": Organisation.objects.filter(kind=OrganisationKind.COMPANY).count(),
            "users": get_user_model().objects.count(),
            "memberships": Membership.objects.count(),
        }

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    print(
        json.dumps(
            {
                "session_cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
                "user": user.email,
                "organisation": membership.organisation.name,
                "seeded_with": "organisations.seeding" if seed is not None else "minimal fallback",
                "counts": counts,
                "migrate_seconds": round(migrated - started, 2),
                "seed_seconds": round(seeded - migrated, 2),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            }
        )
    )


if __name__ == "__main__":
    main()
