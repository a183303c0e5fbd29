"""Every URL of the platform. Each app owns its own `urls.py`; the API lives under /api/v1."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from ebourgogne.api import api
from ebourgogne.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("comptes/", include("allauth.urls")),
    path("compte/", include("ebourgogne.accounts.urls")),
    # A buyer's consultations, their tender files and questions (organisation_view: the buyer's staff only).
    path("organisations/<slug:org_slug>/consultations/", include("ebourgogne.consultations.urls_buyer")),
    path("organisations/<slug:org_slug>/consultations/<int:pk>/dce/", include("ebourgogne.dce.urls_buyer")),
    path("organisations/<slug:org_slug>/consultations/<int:pk>/questions/", include("ebourgogne.questions.urls_buyer")),
    path("organisations/<slug:org_slug>/consultations/<int:pk>/plis/", include("ebourgogne.tenders.urls_buyer")),
    path(
        "organisations/<slug:org_slug>/consultations/<int:pk>/plis/ouverture/",
        include("ebourgogne.tenders.urls_opening"),
    ),
    path("organisations/<slug:org_slug>/consultations/<int:pk>/attribution/", include("ebourgogne.awards.urls_buyer")),
    path("organisations/<slug:org_slug>/courriers/", include("ebourgogne.awards.urls_company")),
    path("organisations/<slug:org_slug>/marches/", include("ebourgogne.contracts.urls_buyer")),
    path(
        "organisations/<slug:org_slug>/marches/<int:contract_pk>/execution/",
        include("ebourgogne.contracts.urls_execution"),
    ),
    path("organisations/<slug:org_slug>/mes-marches/", include("ebourgogne.contracts.urls_holder")),
    path(
        "organisations/<slug:org_slug>/mes-marches/<int:contract_pk>/execution/",
        include("ebourgogne.contracts.urls_holder_execution"),
    ),
    path("organisations/<slug:org_slug>/indicateurs/", include("ebourgogne.indicators.urls_buyer")),
    path("organisations/<slug:org_slug>/commissions/", include("ebourgogne.commissions.urls")),
    path("organisations/<slug:org_slug>/seances/", include("ebourgogne.meetings.urls")),
    path("organisations/<slug:org_slug>/coffre-fort/", include("ebourgogne.vault.urls")),
    path("organisations/<slug:org_slug>/offres/", include("ebourgogne.tenders.urls_company")),
    path("organisations/<slug:org_slug>/offres/plis/<int:bid_pk>/accuse/", include("ebourgogne.tenders.urls_receipts")),
    path("organisations/", include("ebourgogne.organisations.urls")),
    # The public portal: search, consultation pages, downloads, questions.
    path("consultations/", include("ebourgogne.search.urls")),
    path("consultations/<int:pk>/", include("ebourgogne.consultations.urls_public")),
    path("consultations/<int:pk>/dce/", include("ebourgogne.dce.urls_public")),
    path("consultations/<int:pk>/questions/", include("ebourgogne.questions.urls_public")),
    path("consultations/<int:pk>/depot/", include("ebourgogne.tenders.urls_public")),
    path("compte/jetons-api/", include("ebourgogne.apitokens.urls")),
    path("compte/cle-ouverture/", include("ebourgogne.sealing.urls")),
    path("compte/certificats/", include("ebourgogne.signatures.urls")),
    path("compte/alertes/", include("ebourgogne.alerts.urls")),
    path("alertes/", include("ebourgogne.alerts.urls_public")),  # private feeds, one-click unsubscribe
    path("seances/", include("ebourgogne.meetings.urls_member")),  # a member's convocations and sessions
    path("donnees-essentielles/", include("ebourgogne.contracts.urls_decp")),  # DECP daily files, public
    path("verifier-une-signature/", include("ebourgogne.signatures.urls_verify")),  # public signature check
    path("indicateurs/", include("ebourgogne.indicators.urls_public")),  # open figures of the region
    path("horodatage/", include("ebourgogne.timestamping.urls")),
    path("journal/", include("ebourgogne.audit.urls")),
    path("exploitation/courriels/", include("ebourgogne.notifications.urls")),
    path("admin/", admin.site.urls),
    path("entrainement/", include("ebourgogne.tenders.urls_practice")),  # the practice consultation
    path("poste-de-travail/", include("ebourgogne.tenders.urls_workstation")),  # the workstation test
    path("", include("ebourgogne.search.urls_root")),  # buyers' public pages, sitemap
    path("", include("ebourgogne.portal.urls")),
]

handler400 = "ebourgogne.core.views.bad_request"
handler403 = "ebourgogne.core.views.permission_denied"
handler404 = "ebourgogne.core.views.page_not_found"
handler500 = "ebourgogne.core.views.server_error"

if settings.DEBUG:  # pragma: no cover
    pass
