"""Generated data: valid and unique identifiers, real communes, the same data for the same seed, and
safe to run again on a database that already has organisations."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from ebourgogne.organisations.identifiers import clean_insee_code, clean_naf_code
from ebourgogne.organisations.models import LEGAL_FORMS, BuyerService, Organisation
from ebourgogne.organisations.roles import OrganisationKind
from ebourgogne.organisations.seed_data import COMMUNES, COMMUNES_BY_INSEE
from ebourgogne.organisations.seeding import seed

pytestmark = pytest.mark.django_db

FIELDS = (
    "kind",
    "name",
    "slug",
    "siren",
    "siret",
    "buyer_kind",
    "legal_form",
    "naf_code",
    "is_sme",
    "street",
    "city",
    "insee_code",
)


def content():
    organisations = list(Organisation.objects.order_by("pk").values_list(*FIELDS))
    with scopes_disabled():
        services = list(BuyerService.objects.order_by("pk").values_list("organisation__siret", "name", "parent__name"))
    return organisations, services


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    counts = seed(buyers=40, companies=300, seed=7)
    assert (counts["buyers"], counts["companies"]) == (40, 300) and counts["services"] > 40
    first = content()
    Organisation.objects.all().delete()
    seed(buyers=40, companies=300, seed=7)
    assert content() == first
    Organisation.objects.all().delete()
    seed(buyers=40, companies=300, seed=8)
    assert content()[0] != first[0]


def test_more_companies_do_not_change_the_buyers():
    seed(buyers=20, companies=10, seed=3)
    buyers = list(Organisation.objects.filter(kind=OrganisationKind.BUYER).order_by("pk").values_list(*FIELDS))
    Organisation.objects.all().delete()
    seed(buyers=20, companies=500, seed=3)
    assert list(Organisation.objects.filter(kind=OrganisationKind.BUYER).order_by("pk").values_list(*FIELDS)) == buyers


def test_every_generated_organisation_is_valid():
    seed(buyers=150, companies=1000, seed=1)
    organisations = list(Organisation.objects.all())
    assert all(stdnum_siren.is_valid(o.siren) for o in organisations)
    assert all(stdnum_siret.is_valid(o.siret) and o.siret.startswith(o.siren) for o in organisations)
    assert len({o.siren for o in organisations}) == len(organisations)
    assert len({o.slug for o in organisations}) == len(organisations)
    buyers = [o for o in organisations if o.kind == OrganisationKind.BUYER]
    assert len({o.name for o in buyers}) == len(buyers)
    for organisation in organisations:
        commune = COMMUNES_BY_INSEE[organisation.insee_code]
        assert (organisation.city, organisation.postal_code, organisation.department) == (
            commune.name,
            commune.postal_code,
            commune.department,
        )
        assert clean_insee_code(organisation.insee_code, organisation.department) == organisation.insee_code
    companies = [o for o in organisations if o.kind == OrganisationKind.COMPANY]
    assert {o.legal_form for o in companies} <= dict(LEGAL_FORMS).keys()
    assert all(clean_naf_code(o.naf_code) == o.naf_code for o in companies)
    assert 0.7 < sum(o.is_sme for o in companies) / len(companies) < 1
    kinds = Counter(o.buyer_kind for o in buyers)
    assert kinds["region"] == 1 and kinds["departement"] == 4 and kinds["commune"] > 30
    names = {o.name for o in buyers}
    assert {"Région Bourgogne-Franche-Comté", "Département de la Côte-d'Or", "Département de l'Yonne"} <= names


def test_communes_get_their_real_siren():
    seed(buyers=len(COMMUNES) + 200, companies=0, seed=2)
    dijon = Organisation.objects.get(name="Commune de Dijon")
    assert (dijon.siren, dijon.insee_code, dijon.postal_code) == ("212102313", "21231", "21000")
    assert Organisation.objects.filter(name="Commune d'Auxerre").exists()
    assert Organisation.objects.filter(name="Commune du Creusot").exists()


def test_running_again_adds_new_rows_without_collision():
    seed(buyers=60, companies=200, seed=5)
    again = seed(buyers=60, companies=200, seed=5)
    assert (again["buyers"], again["companies"]) == (60, 200)
    organisations = list(Organisation.objects.values_list("siren", "slug", "name", "kind"))
    assert len(organisations) == 520
    assert len({siren for siren, *_ in organisations}) == 520
    assert len({slug for _, slug, *_ in organisations}) == 520
    buyer_names = [name for *_, name, kind in organisations if kind == OrganisationKind.BUYER]
    assert len(set(buyer_names)) == 120
    assert buyer_names.count("Région Bourgogne-Franche-Comté") == 1


def test_buyers_have_services_and_sub_services():
    seed(buyers=30, companies=0, seed=4)
    with scopes_disabled():
        services = list(BuyerService.objects.select_related("parent", "organisation"))
    assert any(service.parent is None for service in services) and any(service.parent for service in services)
    assert all(
        service.parent is None or service.parent.organisation_id == service.organisation_id for service in services
    )
    assert all(service.organisation.kind == OrganisationKind.BUYER for service in services)


def test_the_seed_command(capsys):
    out = StringIO()
    call_command("seed", "--buyers", "5", "--companies", "20", "--seed", "9", stdout=out)
    assert "5 acheteurs" in out.getvalue() and "20 entreprises" in out.getvalue()
    assert Organisation.objects.count() == 25
    with pytest.raises(Exception, match="positifs ou nuls"):
        call_command("seed", "--companies", "-1")
