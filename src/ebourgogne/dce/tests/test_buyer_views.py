"""Buyer pages: streamed uploads over HTTP (memory stays flat), refusals shown on the page, replace,
remove, publish a rectification, the register and its CSV export, other buyers kept out."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.dce import services, views
from ebourgogne.dce.models import DceFile, Download
from ebourgogne.dce.tests.helpers import add_file, published_with_files
from ebourgogne.dce.uploads import DceUploadHandler
from ebourgogne.testing.factories import ConsultationFactory, sign_in

pytestmark = pytest.mark.django_db


def _url(name, consultation, **kwargs):
    return reverse(name, kwargs={"org_slug": consultation.organisation.slug, "pk": consultation.pk, **kwargs})


def _names(consultation):
    with scopes_disabled():
        return sorted(
            DceFile.objects.filter(consultation=consultation, removed_in__isnull=True).values_list("name", flat=True)
        )


class _BigFile:
    """A file-like object producing `size` bytes in 1 MiB blocks, so that the test itself holds little."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size
        self.position = 0
        self.hasher = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.position
        n = left if n is None or n < 0 else min(n, left)
        block = os.urandom(min(n, 1024 * 1024)) if n else b""
        self.position += len(block)
        self.hasher.update(block)
        return block


def test_a_50_mb_upload_streams_to_disk_without_loading_the_file(buyer, buyer_agent, settings):
    """The request body is read from a stream; the file goes to a temporary file chunk by chunk and the
    peak of Python memory allocated while the view parses and stores it stays far below the file's size."""
    consultation = ConsultationFactory(organisation=buyer)
    size = 50 * 1024 * 1024
    assert size > settings.FILE_UPLOAD_MAX_MEMORY_SIZE and size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    boundary = "----dceboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="Plans.dwg"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    source = _BigFile("Plans.dwg", size)

    class Body(io.RawIOBase):
        """The request body, produced block by block as a client sends it."""

        def __init__(self):
            self.pending = head

        def readable(self):
            return True

        def readinto(self, buffer):
            if not self.pending:
                self.pending = source.read(len(buffer)) or tail
                if self.pending is tail:
                    self.tail_sent = getattr(self, "tail_sent", False)
                    if self.tail_sent:
                        return 0
                    self.tail_sent = True
            n = min(len(buffer), len(self.pending))
            buffer[:n] = self.pending[:n]
            self.pending = self.pending[n:]
            return n

    length = len(head) + size + len(tail)
    request = RequestFactory().post(
        _url("dce_buyer:upload", consultation), data=b"", content_type=f"multipart/form-data; boundary={boundary}"
    )
    from django.core.handlers.wsgi import LimitedStream

    request._stream = LimitedStream(io.BufferedReader(Body(), 64 * 1024), length)
    request.META["CONTENT_LENGTH"] = str(length)
    request.META["CONTENT_TYPE"] = f"multipart/form-data; boundary={boundary}"
    request._set_content_type_params(request.META)
    request.user = buyer_agent
    request.session = {}
    request._messages = FallbackStorage(request)
    request._dont_enforce_csrf_checks = True

    tracemalloc.start()
    try:
        response = views.upload(request, org_slug=buyer.slug, pk=consultation.pk)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 302, response.content.decode()[response.content.decode().find("error-summary") :][
        :300
    ]
    assert peak < 12 * 1024 * 1024, f"peak {peak} bytes for a file of {size}"
    with scopes_disabled():
        stored = DceFile.objects.get(consultation=consultation)
    assert stored.size == size and stored.sha256 == source.hasher.hexdigest()


def test_the_upload_view_uses_the_streaming_handler(client, buyer, buyer_agent, monkeypatch):
    seen = []
    original = DceUploadHandler.file_complete

    def spy(self, file_size):
        result = original(self, file_size)
        seen.append((type(result).__name__, os.path.exists(result.temporary_file_path()), result.sha256))
        return result

    monkeypatch.setattr(DceUploadHandler, "file_complete", spy)
    consultation = ConsultationFactory(organisation=buyer)
    sign_in(client, buyer_agent)
    response = client.post(_url("dce_buyer:upload", consultation), {"file": SimpleUploadedFile("RC.pdf", b"%PDF rc")})
    assert response.status_code == 302
    assert seen == [("TemporaryUploadedFile", True, hashlib.sha256(b"%PDF rc").hexdigest())]
    assert _names(consultation) == ["RC.pdf"]


def test_upload_refusals_are_shown_and_nothing_is_stored(client, buyer, buyer_agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # a folder of this test's own
    consultation = ConsultationFactory(organisation=buyer, dce_size_limit=1000)
    sign_in(client, buyer_agent)
    from django.core.files.storage import default_storage

    folder = f"dce/{consultation.pk}"
    before = set(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else set()
    url = _url("dce_buyer:upload", consultation)
    response = client.post(url, {"file": SimpleUploadedFile("gros.pdf", b"x" * 1001)})
    assert response.status_code == 413
    assert "dépasse la place restante" in response.content.decode()
    response = client.post(url, {"file": SimpleUploadedFile("vide.pdf", b"")})
    assert response.status_code == 400 and "est vide" in response.content.decode()
    response = client.post(url, {})
    assert response.status_code == 400 and "Choisissez un fichier" in response.content.decode()
    client.post(url, {"file": SimpleUploadedFile("RC.pdf", b"rc")})
    response = client.post(url, {"file": SimpleUploadedFile("RC.pdf", b"rc2")})
    assert response.status_code == 400 and "fait déjà partie du DCE" in response.content.decode()
    assert _names(consultation) == ["RC.pdf"]
    with scopes_disabled():
        stored = DceFile.objects.get(consultation=consultation).storage_name
    # Nothing half-stored from the refused uploads: one new file in the folder, the accepted one.
    assert set(default_storage.listdir(folder)[1]) - before == {stored.rsplit("/", 1)[1]}


def test_a_path_sent_as_file_name_keeps_only_the_name(client, buyer, buyer_agent):
    """Over HTTP, Django's parser keeps the last part of a path (what old browsers sent); the storage
    name is generated, so nothing the client sends reaches the file system."""
    consultation = ConsultationFactory(organisation=buyer)
    sign_in(client, buyer_agent)
    client.post(_url("dce_buyer:upload", consultation), {"file": SimpleUploadedFile("..\\..\\etc\\passwd", b"x")})
    with scopes_disabled():
        stored = DceFile.objects.get(consultation=consultation)
    assert stored.name == "passwd" and ".." not in stored.storage_name


def test_the_upload_checks_csrf(buyer, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer)
    client = Client(enforce_csrf_checks=True)
    sign_in(client, buyer_agent)
    response = client.post(_url("dce_buyer:upload", consultation), {"file": SimpleUploadedFile("RC.pdf", b"rc")})
    assert response.status_code == 403
    assert _names(consultation) == []


def test_manage_page_replace_remove_and_publish(client, buyer, buyer_agent, django_capture_on_commit_callbacks):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc", "CCTP.pdf": b"cctp"})
    sign_in(client, buyer_agent)
    page = client.get(_url("dce_buyer:manage", consultation))
    assert page.status_code == 200
    html = page.content.decode()
    assert "RC.pdf" in html and "Taille" in html and "PDF" in html and 'enctype="multipart/form-data"' in html
    with scopes_disabled():
        rc = DceFile.objects.get(consultation=consultation, name="RC.pdf")
        cctp = DceFile.objects.get(consultation=consultation, name="CCTP.pdf")
    client.post(
        _url("dce_buyer:replace", consultation, file_id=rc.pk), {"file": SimpleUploadedFile("RC-v2.pdf", b"rc2")}
    )
    client.post(_url("dce_buyer:remove", consultation, file_id=cctp.pk))
    assert _names(consultation) == ["RC-v2.pdf"]
    response = client.post(_url("dce_buyer:publish", consultation), {"reason": ""})
    assert response.status_code == 400 and "motif" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("dce_buyer:publish", consultation), {"reason": "RC corrigé, CCTP retiré"})
    assert response.status_code == 302
    from django_tasks_db.models import DBTaskResult

    from ebourgogne.dce.tasks import build_archive
    from ebourgogne.dce.tests.helpers import version

    queued = DBTaskResult.objects.get(task_path="ebourgogne.dce.tasks.build_archive")
    assert queued.args_kwargs["args"] == [version(consultation, 2).pk]
    build_archive.call(version(consultation, 2).pk)  # what the worker runs
    public = client.get(reverse("dce_public:archive", kwargs={"pk": consultation.pk}))
    assert public.status_code == 200  # the ZIP of version 2 was built after the commit
    assert "RC corrigé, CCTP retiré" in client.get(_url("dce_buyer:manage", consultation)).content.decode()


def test_register_and_csv(client, buyer, buyer_agent, buyer_admin):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc"})
    downloader = services.register_downloader(
        consultation=consultation, email="marie@exemple.test", name="=Marie", company_name="Menuiserie"
    )
    with scopes_disabled():
        dce_file = DceFile.objects.get(consultation=consultation)
        version_id = dce_file.added_in_id
    for who in (None, None, downloader.pk):
        services.record_download(
            consultation_id=consultation.pk, version_id=version_id, file_id=dce_file.pk, downloader_id=who
        )
    services.record_download(consultation_id=consultation.pk, version_id=version_id, file_id=None, downloader_id=None)
    sign_in(client, buyer_admin)
    page = client.get(_url("dce_buyer:register", consultation)).content.decode()
    assert "4 téléchargements : 1 identifiés, 3 anonymes" in page and "marie@exemple.test" in page
    response = client.get(_url("dce_buyer:register_csv", consultation))
    assert response["Content-Type"].startswith("text/csv")
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Date (heure de Paris);Version;Fichier")
    assert len(rows) == 5
    assert any(row.endswith(";1;RC.pdf;'=Marie;Menuiserie;marie@exemple.test") for row in rows)
    assert any(";DCE complet (ZIP);anonyme;;" in row for row in rows)
    with scopes_disabled():
        assert Download.objects.filter(consultation=consultation, downloader__isnull=True).count() == 3


@pytest.mark.parametrize("name", ["dce_buyer:manage", "dce_buyer:register", "dce_buyer:register_csv", "dce_buyer:file"])
def test_another_buyer_gets_404_on_every_page(client, buyer, buyer_agent, outsider, other_buyer, name):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc"}, archive=False)
    with scopes_disabled():
        file_id = DceFile.objects.get(consultation=consultation).pk
    kwargs = {"file_id": file_id} if name == "dce_buyer:file" else {}
    sign_in(client, outsider)
    assert client.get(_url(name, consultation, **kwargs)).status_code == 404
    # Through the outsider's own organisation: the consultation is not theirs.
    other_url = reverse(name, kwargs={"org_slug": other_buyer.slug, "pk": consultation.pk, **kwargs})
    assert client.get(other_url).status_code == 404


def test_another_buyer_cannot_touch_files_through_its_own_organisation(client, buyer, buyer_agent, other_buyer):
    from ebourgogne.organisations.roles import Role
    from ebourgogne.testing.factories import make_member

    consultation = ConsultationFactory(organisation=buyer)
    rc = add_file(buyer_agent, consultation, "RC.pdf")
    intruder = make_member(other_buyer, Role.BUYER_ADMIN)
    sign_in(client, intruder)
    base = {"org_slug": other_buyer.slug, "pk": consultation.pk}
    assert client.post(reverse("dce_buyer:remove", kwargs={**base, "file_id": rc.pk})).status_code == 404
    assert (
        client.post(reverse("dce_buyer:upload", kwargs=base), {"file": SimpleUploadedFile("x.pdf", b"x")}).status_code
        == 404
    )
    assert client.post(reverse("dce_buyer:publish", kwargs=base), {"reason": "x"}).status_code == 404
    assert _names(consultation) == ["RC.pdf"]
