"""Attachments: PDF by content, size-capped, stored outside static files, served through a permission check."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from allocations.applications import services
from allocations.applications.models import Attachment
from portal.models import AuditEvent
from tests import factories as f
from tests.factories import AllocationManagerFactory, ReviewerFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


def upload_url(app):
    return reverse("applications:step_attachments", args=[app.reference])


def download_url(app, attachment):
    return reverse("applications:attachment_download", args=[app.reference, attachment.pk])


def stored_files():
    root = settings.PRIVATE_MEDIA_ROOT / "attachments"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_upload_list_and_download(member_client, app_draft):
    content = f.pdf_bytes()
    response = member_client.post(upload_url(app_draft), {
        "kind": "project_plan", "file": f.file_upload("Project plan.pdf", content)})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.kind, attachment.original_name, attachment.size) == ("project_plan", "Project plan.pdf",
                                                                          len(content))
    assert stored_files() == [attachment.stored_name]
    assert not attachment.stored_name.startswith("Project")  # stored under a random name
    page = member_client.get(upload_url(app_draft)).content.decode()
    assert "Project plan.pdf" in page and download_url(app_draft, attachment) in page
    download = member_client.get(download_url(app_draft, attachment))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="Project plan.pdf"'
    assert b"".join(download.streaming_content) == content


def test_renamed_non_pdf_is_refused(member_client, app_draft):
    events = AuditEvent.objects.count()
    response = member_client.post(upload_url(app_draft), {"kind": "other", "file": f.file_upload("photo.pdf", PNG)})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page and "Only PDF documents are accepted; this file is not a PDF." in page
    assert not Attachment.objects.exists() and stored_files() == []
    assert AuditEvent.objects.count() == events


def test_pdf_magic_further_in_the_file_is_not_enough(member_client, app_draft):
    response = member_client.post(upload_url(app_draft), {
        "kind": "other", "file": f.file_upload("sneaky.pdf", b"MZ\x90\x00" + f.pdf_bytes())})
    assert "this file is not a PDF" in response.content.decode()
    assert not Attachment.objects.exists()


def test_empty_file_is_refused(member_client, app_draft):
    response = member_client.post(upload_url(app_draft), {"kind": "other", "file": f.file_upload("empty.pdf", b"")})
    assert response.status_code == 200 and "The submitted file is empty." in response.content.decode()
    assert not Attachment.objects.exists()


@override_settings(ATTACHMENT_MAX_BYTES=2048)
def test_file_over_the_limit_is_refused(member_client, app_draft):
    response = member_client.post(upload_url(app_draft), {
        "kind": "other", "file": f.file_upload("big.pdf", f.pdf_bytes(2049))})
    assert response.status_code == 200 and "The file is larger than" in response.content.decode()
    assert not Attachment.objects.exists() and stored_files() == []


@override_settings(ATTACHMENT_MAX_BYTES=2048)
def test_file_exactly_at_the_limit_is_accepted(member, app_draft):
    attachment = services.attachment_add(actor=member, application=app_draft, kind="other",
                                         upload=f.pdf_upload(size=2048))
    assert attachment.size == 2048


def test_real_limit_20_mb_plus_one_byte_is_refused(member_client, app_draft):
    assert settings.ATTACHMENT_MAX_BYTES == 20 * 1024 * 1024
    response = member_client.post(upload_url(app_draft), {
        "kind": "other", "file": f.file_upload("huge.pdf", f.pdf_bytes(20 * 1024 * 1024 + 1))})
    assert response.status_code == 200
    assert "The file is larger than 20 MB." in response.content.decode()
    assert not Attachment.objects.exists() and stored_files() == []


def test_unknown_kind_is_refused(member_client, app_draft):
    response = member_client.post(upload_url(app_draft), {"kind": "virus", "file": f.pdf_upload()})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Attachment.objects.exists()


def test_path_in_the_file_name_is_dropped(member, app_draft):
    attachment = services.attachment_add(actor=member, application=app_draft, kind="other",
                                         upload=f.pdf_upload(name="../../etc/passwd.pdf"))
    assert attachment.original_name == "passwd.pdf"
    assert services.attachment_path(attachment).parent == settings.PRIVATE_MEDIA_ROOT / "attachments"


def test_delete_while_draft(member_client, member, app_draft, django_capture_on_commit_callbacks):
    attachment = services.attachment_add(actor=member, application=app_draft, kind="other", upload=f.pdf_upload())
    url = reverse("applications:attachment_delete", args=[app_draft.reference, attachment.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(url)
    assert response.status_code == 302
    assert not Attachment.objects.exists()
    assert stored_files() == []  # the file goes once the deletion is committed


def test_no_delete_or_upload_after_submission(member_client, member, organisation, capacity):
    app = f.submitted(member, organisation, attachment=True)
    attachment = app.attachments.get()
    response = member_client.post(reverse("applications:attachment_delete", args=[app.reference, attachment.pk]),
                                  follow=True)
    assert "This application was submitted and is read-only." in response.content.decode()
    response = member_client.post(upload_url(app), {"kind": "other", "file": f.pdf_upload()}, follow=True)
    assert "read-only" in response.content.decode()
    assert app.attachments.count() == 1 and stored_files() == [attachment.stored_name]
    # Still downloadable.
    assert member_client.get(download_url(app, attachment)).status_code == 200


def test_download_requires_permission(client, member, app_draft, other_org_user):
    attachment = services.attachment_add(actor=member, application=app_draft, kind="other", upload=f.pdf_upload())
    url = download_url(app_draft, attachment)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous.url.startswith(reverse(settings.LOGIN_URL))
    client.force_login(other_org_user)
    assert client.get(url).status_code == 404
    client.force_login(ReviewerFactory())
    assert client.get(url).status_code == 404
    client.force_login(AllocationManagerFactory())
    assert client.get(url).status_code == 404  # a draft is its organisation's alone
    f.mark_submitted(app_draft)
    assert client.get(url).status_code == 200  # staff with oversight, once submitted
    client.force_login(member)
    assert client.get(url).status_code == 200


def test_download_of_another_applications_attachment_through_mine(member_client, member, organisation,
                                                                   other_org_user):
    mine = f.draft(member, organisation)
    theirs = f.draft(other_org_user, other_org_user.memberships.get().organisation)
    attachment = services.attachment_add(actor=other_org_user, application=theirs, kind="other",
                                         upload=f.pdf_upload())
    assert member_client.get(download_url(mine, attachment)).status_code == 404


def test_missing_file_on_disk_is_404_not_500(member_client, member, app_draft):
    attachment = services.attachment_add(actor=member, application=app_draft, kind="other", upload=f.pdf_upload())
    services.attachment_path(attachment).unlink()
    assert member_client.get(download_url(app_draft, attachment)).status_code == 404
