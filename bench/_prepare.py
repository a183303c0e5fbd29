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


def _company_member():
    from django.contrib.auth import get_user_model

    from ebourgogne.organisations import services
    from ebourgogne.organisations.identifiers import siren_with_check_digit
    from ebourgogne.organisations.roles import Role

    users = get_user_model().objects
    admin = users.create_user(email="admin.bench@e-bourgogne.test", full_name="Lucie Garnier")
    member = users.create_user(email="membre.bench@e-bourgogne.test", full_name="Hugo Masson")
    company = services.company_register(
        acting_user=admin,
        name="Menuiserie Garnier et Fils",
        siren=siren_with_check_digit("73282932"),
        legal_form="SARL",
        naf_code="16.23Z",
        is_sme=True,
        street="3 rue des Tanneries",
        postal_code="21000",
        city="Dijon",
        insee_code="21231",
        department="21",
    )
    _invitation, token = services.invitation_create(
        acting_user=admin, organisation=company, email=member.email, role=Role.COMPANY_MEMBER
    )
    return services.invitation_accept(user=member, token=token)


def _consultations(count: int, seed: int) -> dict:
    """Seed `count` consultations (`consultations.seeding`, search index included) and pick a published one
    with lots for the consultation page."""
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from ebourgogne.consultations.models import Consultation, State
    from ebourgogne.consultations.seeding import seed_consultations

    counts = seed_consultations(count=count, seed=seed)
    with scopes_disabled():
        chosen = (
            Consultation.objects.filter(state=State.PUBLISHED)
            .annotate(lot_count=Count("lots"))
            .filter(lot_count__gte=2)
            .order_by("pk")
            .first()
        )
        if chosen is None:
            chosen = Consultation.objects.filter(state=State.PUBLISHED).order_by("pk").first()
        if chosen is None:
            raise SystemExit("no published consultation among the seeded ones")
        return {"pk": chosen.pk, "reference": chosen.reference, "counts": counts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buyers", type=int, required=True)
    parser.add_argument("--companies", type=int, required=True)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--consultations", type=int, default=0)
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
    consultation = None
    if args.consultations:
        consultation = _consultations(args.consultations, args.seed)
    seeded = time.perf_counter()

    with scopes_disabled():
        membership = (
            Membership.objects.filter(role=Role.COMPANY_MEMBER, organisation__kind=OrganisationKind.COMPANY)
            .exclude(user__memberships__role__in=[Role.BUYER_ADMIN, Role.BUYER_AGENT, Role.COMMISSION_MEMBER])
            .select_related("user", "organisation")
            .order_by("pk")
            .first()
        )
        if membership is None:  # the generator makes no people: a company admin invites a member
            membership = _company_member()
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
                "consultation": consultation,
                "counts": counts,
                "migrate_seconds": round(migrated - started, 2),
                "seed_seconds": round(seeded - migrated, 2),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            }
        )
    )


if __name__ == "__main__":
    main()
