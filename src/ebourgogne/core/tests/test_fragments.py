"""`{% fragment %}`: parts of pages rendered once per language and inputs, never mixing visitors, languages
or CSRF tokens."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.urls import reverse, set_script_prefix
from django.utils import translation

from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import CompanyFactory, make_member, make_operator, sign_in

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def render(source: str, context: dict | None = None) -> str:
    return Template("{% load ebourgogne_fragments %}" + source).render(Context(context or {}))


def test_the_inside_sees_only_its_inputs():
    source = "{% fragment shown=name %}[{{ shown }}|{{ name }}|{{ user.email }}]{% endfragment %}"
    context = {"name": "Alice", "user": {"email": "alice@example.org"}}

    assert render(source, context) == "[Alice||]"


def test_each_input_value_and_each_language_has_its_own_copy():
    template = Template(
        "{% load i18n ebourgogne_fragments %}{% fragment signed_in=signed_in %}"
        "{% translate 'Accueil' %}{% if signed_in %} +{% endif %}{% endfragment %}"
    )
    seen = []
    for language, signed_in in [("fr", False), ("en", False), ("fr", True), ("en", True), ("fr", False)]:
        with translation.override(language):
            seen.append(template.render(Context({"signed_in": signed_in})))

    assert seen == ["Accueil", "Home", "Accueil +", "Home +", "Accueil"]


def test_urls_follow_the_script_prefix():
    source = "{% fragment %}{% url 'portal:help' %}{% endfragment %}"
    try:
        set_script_prefix("/plateforme/")
        under_prefix = render(source)
    finally:
        set_script_prefix("/")

    assert (under_prefix, render(source)) == ("/plateforme/aide/", "/aide/")


def test_inputs_must_be_plain_values_and_blocks_stay_outside():
    with pytest.raises(TemplateSyntaxError, match="must be a str, int, bool or None"):
        render("{% fragment people=people %}x{% endfragment %}", {"people": ["Alice"]})
    with pytest.raises(TemplateSyntaxError, match="name=value"):
        render("{% fragment people %}x{% endfragment %}")
    with pytest.raises(TemplateSyntaxError, match="block"):
        render("{% fragment %}{% block content %}{% endblock %}{% endfragment %}")


def test_the_csrf_token_is_the_requests_own():
    source = "{% fragment %}<form>{% csrf_token %}</form>{% endfragment %}"

    first, second = render(source, {"csrf_token": "token-one"}), render(source, {"csrf_token": "token-two"})
    without = render(source)

    assert CSRF_INPUT.findall(first) == ["token-one"] and CSRF_INPUT.findall(second) == ["token-two"]
    assert without == "<form></form>"  # as {% csrf_token %} renders without a token


@pytest.mark.django_db
def test_each_visitor_posts_the_language_switch_with_their_own_token():
    visitors = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for visitor in visitors:
        page = visitor.get(reverse("portal:home")).content.decode()
        found = set(CSRF_INPUT.findall(page))
        assert len(found) == 1
        tokens.append(found.pop())
    assert tokens[0] != tokens[1]

    # Each token works with its own visitor's cookie only.
    assert (
        visitors[0]
        .post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": tokens[1]})
        .status_code
        == 403
    )
    for visitor, token in zip(visitors, tokens, strict=True):
        switched = visitor.post("/i18n/setlang/", {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
        assert switched.status_code == 302


@pytest.mark.django_db
def test_the_signed_in_logout_form_carries_the_persons_token():
    client = Client(enforce_csrf_checks=True)
    sign_in(client, make_member(CompanyFactory(), Role.COMPANY_MEMBER))
    page = client.get(reverse("accounts:home")).content.decode()
    logout_form = page[page.index('action="/comptes/logout/"') :]
    token = CSRF_INPUT.search(logout_form).group(1)

    assert client.post(reverse("account_logout"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_pages_in_both_languages_do_not_mix(client):
    french = client.get(reverse("portal:home"), headers={"accept-language": "fr"}).content.decode()
    english = Client().get(reverse("portal:home"), headers={"accept-language": "en"}).content.decode()
    french_again = Client().get(reverse("portal:home"), headers={"accept-language": "fr"}).content.decode()

    assert "Aller au contenu" in french and "Skip to content" not in french
    assert "Skip to content" in english and "Aller au contenu" not in english
    assert 'lang="en"' in english and "Mentions légales" not in english
    assert french_again.count("Aller au contenu") == 1 and "Skip to content" not in french_again


@pytest.mark.django_db
def test_the_navigation_follows_the_page_and_the_visitor():
    visitor = Client()
    help_page = visitor.get(reverse("portal:help")).content.decode()
    home_page = visitor.get(reverse("portal:home")).content.decode()
    assert '<a href="/aide/" aria-current="page">' in help_page and '<a href="/" aria-current="page">' not in help_page
    assert '<a href="/" aria-current="page">' in home_page and '<a href="/aide/" aria-current="page">' not in home_page

    operator = sign_in(Client(), make_operator())
    member = sign_in(Client(), make_member(CompanyFactory(), Role.COMPANY_MEMBER))
    for _ in range(2):  # in turn, from the same copies
        assert reverse("portal:operator_home") in operator.get(reverse("portal:home")).content.decode()
        member_page = member.get(reverse("portal:home")).content.decode()
        assert reverse("portal:operator_home") not in member_page
        assert reverse("account_logout") in member_page and reverse("account_login") not in member_page
        anonymous_page = Client().get(reverse("portal:home")).content.decode()
        assert reverse("account_logout") not in anonymous_page and reverse("account_login") in anonymous_page


def test_slots_are_filled_on_each_use_and_escaped():
    template = Template(
        "{% load ebourgogne_fragments %}{% fragment %}<p>{% slot name %}</p><a href='{% slot url %}'>"
        "{% slot name %}</a>{% endfragment %}"
    )

    alice = template.render(Context({"name": "Alice <b>", "url": "/a?x=1&y=2"}))
    bob = template.render(Context({"name": "Bob", "url": "/b"}))

    assert alice == "<p>Alice &lt;b&gt;</p><a href='/a?x=1&amp;y=2'>Alice &lt;b&gt;</a>"
    assert bob == "<p>Bob</p><a href='/b'>Bob</a>"
    assert render("{% slot name %}", {"name": "<i>"}) == "&lt;i&gt;"  # outside a fragment: as {{ name }}


def test_a_slot_inside_a_fragment_inside_a_fragment_stays_out_of_both_copies():
    source = "{% fragment %}[{% fragment %}{% slot name %}{% endfragment %}|{% slot name %}]{% endfragment %}"
    # The inner slot is filled from the outer fragment's own context, which holds no `name`.
    assert render(source, {"name": "Alice"}) == "[|Alice]"
    assert render(source, {"name": "Bob"}) == "[|Bob]"


@pytest.mark.django_db
def test_each_person_sees_their_own_data_and_organisations_in_the_shared_copies():
    first = make_member(CompanyFactory(name="Tuilerie <Dupont> & Cie"), Role.COMPANY_ADMIN)
    second = make_member(CompanyFactory(name="Forge Bernard"), Role.COMPANY_MEMBER)
    pages = {}
    for person in (first, second, first):
        pages[person.pk] = sign_in(Client(), person).get(reverse("accounts:home")).content.decode()

    assert first.email in pages[first.pk] and second.email not in pages[first.pk]
    assert second.email in pages[second.pk] and first.email not in pages[second.pk]
    assert "Tuilerie &lt;Dupont&gt; &amp; Cie" in pages[first.pk] and "Forge Bernard" not in pages[first.pk]
    assert "Forge Bernard" in pages[second.pk] and "Tuilerie" not in pages[second.pk]


@pytest.mark.django_db
def test_the_switcher_marks_the_organisation_of_the_page():
    company = CompanyFactory(name="Atelier Moreau")
    other = CompanyFactory(name="Bureau Petit")
    person = make_member(company, Role.COMPANY_ADMIN)
    make_member(other, Role.COMPANY_MEMBER, person)
    client = sign_in(Client(), person)

    page = client.get(reverse("organisations:detail", args=[company.slug])).content.decode()
    switcher = page[page.index('<details class="org-switcher">') : page.index("</details>")]

    assert "Organisation en cours :</span> Atelier Moreau" in switcher
    assert f'<a href="/organisations/{company.slug}/" aria-current="page">' in switcher
    assert (
        f'<a href="/organisations/{other.slug}/">Bureau Petit <span class="org-role">Membre entreprise</span>'
        in switcher
    )


@pytest.mark.django_db
def test_slots_in_an_included_template_are_filled_too(tmp_path, settings):
    (tmp_path / "part.html").write_text("{% load ebourgogne_fragments %}<i>{% slot name %}</i>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    source = '{% fragment %}[{% include "part.html" %}]{% endfragment %}'

    assert render(source, {"name": "Alice"}) == "[<i>Alice</i>]"
    assert render(source, {"name": "Bob"}) == "[<i>Bob</i>]"


@pytest.mark.django_db
def test_messages_are_shown_once_on_the_pages_made_of_one_copy():
    client = sign_in(Client(), make_member(CompanyFactory(), Role.COMPANY_MEMBER))
    profile = client.post(reverse("accounts:profile"), {"full_name": "Inès Garnier", "language": "fr"}, follow=True)
    assert profile.status_code == 200
    assert "Vos informations ont été enregistrées." in profile.content.decode()  # on the account page
    assert "Vos informations ont été enregistrées." not in client.get(reverse("accounts:home")).content.decode()
    assert "Inès Garnier" in client.get(reverse("accounts:home")).content.decode()

    logout = client.post(reverse("account_logout"), follow=True)
    page = logout.content.decode()
    assert logout.redirect_chain[-1][0] == reverse("portal:home")
    assert 'class="messages"' in page and reverse("account_login") in page  # signed out, with the message
    assert 'class="messages"' not in Client().get(reverse("portal:home")).content.decode()
