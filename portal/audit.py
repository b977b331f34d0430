"""The audit trail: append events inside the caller's transaction, verify the chain.

Every state-changing service calls `audit_record` inside its own `transaction.atomic()` block,
so an event exists exactly when the change it describes was committed."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from .audit_actions import AuditAction, action_label
from .models import AuditChainHead, AuditEvent, AuditEventContext
from .request_context import current_request

# The vocabulary is re-exported: callers import the action with the function that records it.
__all__ = ["GENESIS_HASH", "HEAD_LOGGER", "AuditAction", "ChainHead", "ChainVerification", "action_label",
           "audit_record", "canonical_changes", "chain_head", "compute_hash", "event_count", "events_for",
           "log_chain_head", "object_label", "verify_chain"]

GENESIS_HASH = "0" * 64

# The head is written to this logger on every beat tick (portal.tasks.log_audit_chain_head) and shipped
# off the machine: the name and the message format are an interface for the operator's log store and
# for `verify_audit_chain --expect-seq --expect-hash`; do not change them.
HEAD_LOGGER = "portal.audit.head"
HEAD_MESSAGE = "audit chain head seq=%d hash=%s"
head_logger = logging.getLogger(HEAD_LOGGER)


def _json_default(value: Any):
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def canonical_changes(changes: dict | None) -> dict:
    """Round-trip through JSON so what is hashed is exactly what the database stores."""
    return json.loads(json.dumps(changes or {}, default=_json_default, sort_keys=True))


def compute_hash(*, seq: int, created_at: datetime, actor_id: int | None, action: str, object_type: str,
                 object_id: str, changes: dict, request_id: str, prev_hash: str) -> str:
    payload = {
        "seq": seq,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "changes": changes,
        "request_id": request_id,
        "prev_hash": prev_hash,
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def object_label(target: models.Model | tuple[str, str]) -> tuple[str, str]:
    if isinstance(target, tuple):
        return target
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk)


def audit_record(*, actor, action: AuditAction, target: models.Model | tuple[str, str],
                 changes: dict | None = None) -> AuditEvent:
    """Append one event to the chain. Must run inside the caller's atomic block.

    `action` must be an AuditAction: a free string would be a word no page, report or export knows how
    to show, so an unknown one raises ValueError before anything is written."""
    if action not in AuditAction.values:
        raise ValueError(f"unknown audit action {action!r}: add it to portal.audit_actions.AuditAction")
    action = AuditAction(action).value
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        object_type, object_id = object_label(target)
        info = current_request()
        actor_id = getattr(actor, "pk", None) if actor is not None else None
        # Truncate to microseconds and pin UTC so the hash is reproducible from the stored row.
        created_at = timezone.now().astimezone(UTC)
        data = canonical_changes(changes)
        seq = head.seq + 1
        digest = compute_hash(seq=seq, created_at=created_at, actor_id=actor_id, action=action,
                              object_type=object_type, object_id=object_id, changes=data,
                              request_id=info.request_id, prev_hash=head.head_hash)
        event = AuditEvent.objects.create(
            seq=seq, created_at=created_at, actor_id=actor_id, action=action, object_type=object_type,
            object_id=object_id, changes=data, request_id=info.request_id, prev_hash=head.head_hash,
            hash=digest,
        )
        if info.ip:
            AuditEventContext.objects.create(event=event, ip_address=info.ip)
        head.seq = seq
        head.head_hash = digest
        head.save(update_fields=["seq", "head_hash"])
    return event


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    count: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


def chain_head() -> ChainHead:
    """The head as the chain-head row holds it: the last event's number and hash."""
    head = AuditChainHead.objects.filter(id=1).first()
    if head is None:
        return ChainHead(0, GENESIS_HASH)
    return ChainHead(head.seq, head.head_hash)


def log_chain_head() -> ChainHead:
    """Write the head to the log, to be kept outside the database.

    The chain proves that no event was changed or removed *before* the head, but someone who can
    write to the tables can delete the newest events and rewind the head row, leaving a shorter chain
    that verifies. A head remembered elsewhere (this log line in an external store, the head printed
    in every issued PDF report) closes that gap: `verify_chain(expect=...)` requires it to be there."""
    head = chain_head()
    head_logger.info(HEAD_MESSAGE, head.seq, head.hash)
    return head


def verify_chain(*, expect: ChainHead | None = None, batch_size: int = 2000) -> ChainVerification:
    """Walk the chain in order, recomputing every hash; stop at the first broken link.

    With `expect`, a head remembered outside the database, the chain must also hold that event with
    that hash: a chain that ends before it lost its newest events, even if what is left verifies."""
    if expect is not None and expect.seq == 0 and expect.hash != GENESIS_HASH:
        return ChainVerification(False, 0, GENESIS_HASH, 0, "the remembered head #0 must be the genesis hash")
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    queryset = AuditEvent.objects.order_by("seq").values_list(
        "seq", "created_at", "actor_id", "action", "object_type", "object_id", "changes",
        "request_id", "prev_hash", "hash",
    )
    for row in queryset.iterator(chunk_size=batch_size):
        seq, created_at, actor_id, action, object_type, object_id, changes, request_id, prev_hash, digest = row
        if seq != expected_seq:
            return ChainVerification(False, count, prev, seq, f"expected event #{expected_seq}, found #{seq}")
        if prev_hash != prev:
            return ChainVerification(False, count, prev, seq, "previous-hash link does not match")
        recomputed = compute_hash(seq=seq, created_at=created_at, actor_id=actor_id, action=action,
                                  object_type=object_type, object_id=object_id, changes=changes,
                                  request_id=request_id, prev_hash=prev_hash)
        if recomputed != digest:
            return ChainVerification(False, count, prev, seq, "content does not match its hash")
        if expect is not None and seq == expect.seq and digest != expect.hash:
            return ChainVerification(False, count, prev, seq,
                                     f"hash {digest} differs from the remembered head's {expect.hash}")
        prev = digest
        expected_seq += 1
        count += 1
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and (head.seq != count or head.head_hash != prev):
        return ChainVerification(False, count, prev, count + 1, "events are missing after the last one")
    if expect is not None and expect.seq > count:
        return ChainVerification(False, count, prev, count + 1,
                                 f"the chain ends at event #{count}, before the remembered head #{expect.seq}: "
                                 "the newest events were removed")
    return ChainVerification(True, count, prev)


def event_count() -> int:
    """How many events the trail holds, read from the ends of the unique `seq` index instead of a
    COUNT(*) over every row. The chain numbers events 1, 2, 3, ... without gaps (`verify_chain`
    rejects a gap), so the span of `seq` is the count."""
    bounds = AuditEvent.objects.aggregate(first=models.Min("seq"), last=models.Max("seq"))
    if bounds["last"] is None:
        return 0
    return bounds["last"] - bounds["first"] + 1


def events_for(target: models.Model | tuple[str, str]):
    object_type, object_id = object_label(target)
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("seq")
