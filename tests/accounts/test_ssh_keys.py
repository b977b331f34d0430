"""SSH public keys on /me/ssh-keys/: what is accepted, what is refused (with a message next to the field and
nothing stored), and that only the owner removes a key."""

from __future__ import annotations

import base64
import struct

import pytest
from django.core.exceptions import ValidationError

from accounts.models import SshPublicKey
from accounts.services import ssh_key_add
from accounts.sshkeys import MAX_KEYS_PER_PERSON, parse_public_key
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def _field(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def rsa_key(bits: int) -> str:
    modulus = (1 << (bits - 1)) | 1
    blob = _field(b"ssh-rsa") + _field(b"\x01\x00\x01") + _field(b"\x00" + modulus.to_bytes(bits // 8, "big"))
    return f"ssh-rsa {base64.b64encode(blob).decode()} me@host"


def test_an_ed25519_key_is_parsed_with_openssh_fingerprint():
    line = f.ssh_key_line("me@laptop")
    parsed = parse_public_key(f"  {line}\n")
    assert parsed.key_type == "ssh-ed25519" and parsed.comment == "me@laptop"
    assert parsed.line == line
    assert parsed.fingerprint.startswith("SHA256:") and len(parsed.fingerprint) == 50


@pytest.mark.parametrize("text, code", [
    ("", "required"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "private"),
    ("-----BEGIN RSA PRIVATE KEY-----", "private"),
    ("hello world", "type"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "type"),
    ("ssh-ed25519", "body"),
    ("ssh-ed25519 not!base64", "body"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMq", "body"),  # truncated
    ("ssh-ed25519-cert-v01@openssh.com AAAA", "cert"),
    ('command="rm -rf /" ssh-ed25519 AAAA', "type"),
])
def test_garbage_and_private_keys_are_refused(text, code):
    with pytest.raises(ValidationError) as exc:
        parse_public_key(text)
    assert exc.value.code == code


def test_a_body_of_another_type_is_refused():
    rsa_body = rsa_key(2048).split()[1]
    with pytest.raises(ValidationError) as exc:
        parse_public_key(f"ssh-ed25519 {rsa_body}")
    assert exc.value.code == "mismatch"


def test_weak_rsa_is_refused_strong_rsa_accepted():
    with pytest.raises(ValidationError) as exc:
        parse_public_key(rsa_key(1024))
    assert exc.value.code == "weak"
    assert parse_public_key(rsa_key(3072)).key_type == "ssh-rsa"


def test_two_lines_and_oversized_keys_are_refused():
    with pytest.raises(ValidationError):
        parse_public_key(f.ssh_key_line() + "\n" + f.ssh_key_line())
    with pytest.raises(ValidationError) as exc:
        parse_public_key("ssh-ed25519 " + "A" * 9000)
    assert exc.value.code == "too_long"


def test_a_comment_with_shell_characters_is_refused():
    body = f.ssh_key_line("").split()[1]
    with pytest.raises(ValidationError) as exc:
        parse_public_key(f"ssh-ed25519 {body} me;$(reboot)")
    assert exc.value.code == "comment"


def test_service_adds_once_and_caps_the_number(user):
    line = f.ssh_key_line()
    ssh_key_add(actor=user, text=line)
    with pytest.raises(ValidationError) as exc:
        ssh_key_add(actor=user, text=line)
    assert "key" in exc.value.message_dict
    for _ in range(MAX_KEYS_PER_PERSON - 1):
        ssh_key_add(actor=user, text=f.ssh_key_line())
    with pytest.raises(ValidationError):
        ssh_key_add(actor=user, text=f.ssh_key_line())
    assert SshPublicKey.objects.filter(user=user).count() == MAX_KEYS_PER_PERSON
    assert AuditEvent.objects.filter(action="ssh_key.added").count() == MAX_KEYS_PER_PERSON


def test_page_adds_lists_and_removes(client, user, django_assert_num_queries):
    client.force_login(user)
    line = f.ssh_key_line("me@laptop")
    response = client.post("/me/ssh-keys/", {"key": line}, follow=True)
    key = SshPublicKey.objects.get(user=user)
    assert response.status_code == 200
    assert key.fingerprint in response.content.decode()
    for _ in range(3):
        ssh_key_add(actor=user, text=f.ssh_key_line())
    client.get("/me/ssh-keys/")
    with django_assert_num_queries(5):  # session, user, the second factor, keys, the header's count
        listed = client.get("/me/ssh-keys/")
    assert listed.content.decode().count('<code class="break">SHA256:') == 4
    removed = client.post(f"/me/ssh-keys/{key.pk}/remove/", follow=True)
    assert removed.status_code == 200
    assert not SshPublicKey.objects.filter(pk=key.pk).exists()
    assert AuditEvent.objects.filter(action="ssh_key.removed").count() == 1


def test_page_shows_the_refusal_next_to_the_field(client, user):
    client.force_login(user)
    response = client.post("/me/ssh-keys/", {"key": "-----BEGIN OPENSSH PRIVATE KEY-----"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "private key" in body and 'aria-invalid="true"' in body
    assert not SshPublicKey.objects.exists()


def test_another_persons_key_cannot_be_removed(client, user):
    other = f.UserFactory()
    key = ssh_key_add(actor=other, text=f.ssh_key_line())
    client.force_login(user)
    assert client.post(f"/me/ssh-keys/{key.pk}/remove/").status_code == 404
    assert SshPublicKey.objects.filter(pk=key.pk).exists()
