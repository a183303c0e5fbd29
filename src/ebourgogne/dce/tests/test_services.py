"""Services of the DCE: uploads and their refusals, versions, publication with the consultation,
rectifications, the ZIP of each version."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile

import pytest
from django.core.files.storage import default_storage
from django_scopes import scopes_disabled

from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.dce import selectors, services
from ebourgogne.dce.models import DceFile, DceVersion
from ebourgogne.dce.tasks import build_archive
from ebourgogne.dce.tests.helpers import add_file, published_with_files, uploaded, version
from ebourgogne.testing.factories import ConsultationFactory
from ebourgogne.testing.sealing import buyer_opening_keys  # noqa: F401 - publication needs an opening commission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("buyer_opening_keys")]


def _files(consultation):
    with scopes_disabled():
        return sorted(DceFile.objects.filter(consultation=consultation).values_list("name", flat=True))


def test_upload_stores_under_a_generated_name_with_sha256_and_format(buyer, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer)
    content = b"%PDF-1.7 reglement"
    dce_file = add_file(buyer_agent, consultation, "Règlement de consultation.pdf", content)
    assert dce_file.sha256 == hashlib.sha256(content).hexdigest()
    assert dce_file.size == len(content) and dce_file.content_type == "application/pdf"
    assert dce_file.storage_name.startswith(f"dce/{consultation.pk}/") and "Règlement" not in dce_file.storage_name
    with default_storage.open(dce_file.storage_name) as stored:
        assert stored.read() == content
    assert dce_file.added_in.number == 1 and dce_file.added_in.published_at is None


def test_empty_file_is_refused_and_nothing_is_stored(buyer, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer)
    with pytest.raises(DomainError, match="est vide"):
        add_file(buyer_agent, consultation, "vide.pdf", b"")
    assert _files(consultation) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../../etc/passwd", "barre oblique"),
        ("dossier\\plan.pdf", "barre oblique"),
        ("plan\x00.pdf", "caractère de contrôle"),
        ("plan\n.pdf", "caractère de contrôle"),
        ("  ", "n'a pas de nom"),
        ("..", "n'est pas permis"),
        ("a" * 256 + ".pdf", "255 caractères"),
    ],
)
def test_bad_names_are_refused_with_a_clear_message(buyer, buyer_agent, name, message):
    consultation = ConsultationFactory(organisation=buyer)
    with pytest.raises(DomainError, match=message):
        services.upload_file(acting_user=buyer_agent, consultation=consultation, uploaded=uploaded("x.pdf"), name=name)
    assert _files(consultation) == []


def test_duplicate_name_in_one_version_is_refused(buyer, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer)
    add_file(buyer_agent, consultation, "CCAP.pdf")
    with pytest.raises(DomainError, match="fait déjà partie du DCE"):
        add_file(buyer_agent, consultation, "CCAP.pdf", b"autre")
    assert _files(consultation) == ["CCAP.pdf"]


def test_size_limit_of_the_consultation(buyer, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer, dce_size_limit=100)
    add_file(buyer_agent, consultation, "a.pdf", b"x" * 60)
    with pytest.raises(DomainError, match="ne peut pas dépasser") as refused:
        add_file(buyer_agent, consultation, "b.pdf", b"x" * 41)
    assert refused.value.code == "too_large"
    add_file(buyer_agent, consultation, "c.pdf", b"x" * 40)  # exactly at the limit
    assert services.room_left(consultation) == 0


def test_permissions(buyer, buyer_agent, commission_member, outsider, operator):
    consultation = ConsultationFactory(organisation=buyer)
    with pytest.raises(PermissionRefused):
        add_file(commission_member, consultation, "a.pdf")
    with pytest.raises(NotFound):
        add_file(outsider, consultation, "a.pdf")
    with pytest.raises(PermissionRefused):
        add_file(operator, consultation, "a.pdf")
    assert _files(consultation) == []


def test_before_publication_the_buyer_edits_freely(buyer, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer)
    first = add_file(buyer_agent, consultation, "a.pdf")
    services.remove_file(acting_user=buyer_agent, consultation=consultation, dce_file=first)
    assert _files(consultation) == []
    second = add_file(buyer_agent, consultation, "b.pdf")
    services.replace_file(
        acting_user=buyer_agent, consultation=consultation, dce_file=second, uploaded=uploaded("b2.pdf")
    )
    assert _files(consultation) == ["b2.pdf"]
    with scopes_disabled():
        assert DceVersion.objects.filter(consultation=consultation).count() == 1
    assert selectors.public_dce(consultation).version is None  # a draft consultation shows nothing


def test_publication_of_the_consultation_publishes_version_1_and_builds_the_zip(buyer, buyer_agent):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc", "CCTP.txt": b"cctp " * 100})
    v1 = version(consultation, 1)
    assert v1.published_at is not None and not v1.is_rectification
    assert v1.archive_ready_at is not None and v1.archive_size > 0
    with default_storage.open(v1.archive_name) as stored:
        data = stored.read()
    assert hashlib.sha256(data).hexdigest() == v1.archive_sha256 and len(data) == v1.archive_size
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["CCTP.txt", "RC.pdf"]
        assert archive.read("CCTP.txt") == b"cctp " * 100
        assert archive.getinfo("CCTP.txt").compress_type == zipfile.ZIP_DEFLATED
        assert archive.getinfo("RC.pdf").compress_type == zipfile.ZIP_STORED
    assert build_archive.call(v1.pk) == {"built": False}  # built once


def test_after_publication_a_change_opens_the_next_version_published_with_a_reason(buyer, buyer_agent):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc", "CCTP.pdf": b"cctp"})
    with scopes_disabled():
        rc = DceFile.objects.get(consultation=consultation, name="RC.pdf")
    services.replace_file(
        acting_user=buyer_agent, consultation=consultation, dce_file=rc, uploaded=uploaded("RC v2.pdf", b"rc2")
    )
    add_file(buyer_agent, consultation, "Plan.pdf", b"plan")
    # Not public until published: the public DCE is still version 1.
    public = selectors.public_dce(consultation)
    assert public.version.number == 1 and [f.name for f in public.files] == ["CCTP.pdf", "RC.pdf"]
    with pytest.raises(DomainError, match="motif"):
        services.publish_changes(acting_user=buyer_agent, consultation=consultation, reason="  ")
    v2 = services.publish_changes(acting_user=buyer_agent, consultation=consultation, reason="Plan ajouté, RC corrigé.")
    assert v2.number == 2 and v2.is_rectification and v2.reason == "Plan ajouté, RC corrigé."
    public = selectors.public_dce(consultation)
    assert public.version == v2
    assert [f.name for f in public.files] == ["CCTP.pdf", "Plan.pdf", "RC v2.pdf"]
    assert [r.number for r in public.rectifications] == [2]
    # Version 1 keeps its own files (the old RC is kept, marked removed in version 2).
    assert [f.name for f in selectors.files_of_version(version(consultation, 1))] == ["CCTP.pdf", "RC.pdf"]
    with pytest.raises(DomainError, match="Aucune modification"):
        services.publish_changes(acting_user=buyer_agent, consultation=consultation, reason="Rien")


def test_closed_consultation_cannot_change(buyer, buyer_agent):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc"})
    with scopes_disabled():
        consultation.state = "closed"
        consultation.save()
    with pytest.raises(DomainError, match="ne peut plus être modifié"):
        add_file(buyer_agent, consultation, "tard.pdf")


def test_audit_events(buyer, buyer_agent):
    from ebourgogne.audit.models import AuditEvent

    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc"})
    add_file(buyer_agent, consultation, "Plan.pdf", b"plan")
    services.publish_changes(acting_user=buyer_agent, consultation=consultation, reason="Plan ajouté")
    with scopes_disabled():
        actions = list(
            AuditEvent.objects.filter(organisation_id=buyer.pk).order_by("pk").values_list("action", flat=True)
        )
    assert actions == ["dce.file.added", "dce.published", "dce.file.added", "dce.rectification.published"]


def test_register_downloader_validates_and_resubscribes(buyer, buyer_agent):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc"}, archive=False)
    with pytest.raises(DomainError, match="adresse électronique valide"):
        services.register_downloader(consultation=consultation, email="pas-une-adresse")
    downloader = services.register_downloader(consultation=consultation, email="Marie@Exemple.test", name="Marie")
    assert downloader.email == "marie@exemple.test"
    services.unsubscribe(token=services.unsubscribe_token(downloader))
    assert selectors.identified_downloaders(consultation) == []
    services.register_downloader(consultation=consultation, email="marie@exemple.test", name="Marie D.")
    assert [d.name for d in selectors.identified_downloaders(consultation)] == ["Marie D."]
    draft = ConsultationFactory(organisation=buyer)
    with pytest.raises(NotFound):
        services.register_downloader(consultation=draft, email="marie@exemple.test")


def test_publishing_through_the_consultations_service_publishes_the_dce(
    buyer, buyer_agent, django_capture_on_commit_callbacks
):
    from ebourgogne.consultations import services as consultation_services

    consultation = ConsultationFactory(organisation=buyer)
    add_file(buyer_agent, consultation, "RC.pdf", b"rc")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consultation_services.consultation_publish(acting_user=buyer_agent, consultation=consultation)
    v1 = version(consultation, 1)
    assert v1.published_at is not None
    with scopes_disabled():
        consultation.refresh_from_db()
    assert [f.name for f in selectors.public_dce(consultation).files] == ["RC.pdf"]
    assert len(callbacks) >= 1  # the ZIP build is queued after the commit


def test_big_members_are_written_with_zip64(buyer, buyer_agent, monkeypatch):
    from ebourgogne.dce import tasks

    monkeypatch.setattr(tasks, "ZIP64_MEMBER", 10)  # as if 10 bytes were 2 GiB
    consultation = published_with_files(buyer, buyer_agent, {"Plans.dwg": b"p" * 5000, "RC.pdf": b"rc"})
    v1 = version(consultation, 1)
    with default_storage.open(v1.archive_name) as stored:
        data = stored.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        big = archive.getinfo("Plans.dwg")
        # The local header of the member carries the ZIP64 extra field (id 0x0001).
        name_length, extra_length = struct.unpack("<HH", data[big.header_offset + 26 : big.header_offset + 30])
        start = big.header_offset + 30 + name_length
        assert data[start : start + extra_length].startswith(b"\x01\x00")
        assert archive.read("Plans.dwg") == b"p" * 5000
