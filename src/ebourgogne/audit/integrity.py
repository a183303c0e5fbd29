"""Checking the audit chain: recompute every hash and link, in seq order, in constant memory.

`verify_chain()` streams the table by keyset batches (never the whole table in memory) and stops at the
first broken link, which it names and explains:

- MODIFIED: the event's stored content no longer matches its hash (edited behind the application's back),
  or its predecessor was replaced by an event with a recomputed hash.
- MISSING: one or more events are gone (a hole in the numbers, or the head records more events than exist).
- INSERTED: an event that the chain does not account for (a forged event after the head, or slipped in
  between two events by renumbering the ones after it).
- REORDERED: the event was recorded under another number (events swapped or renumbered).
- HEAD: the chain head row disagrees with the last event (or is missing).

What it cannot see: someone with full write access who rewrites the tail consistently (every hash after
the change, and the head). Anchors catch that: keep a copy of the "seq:hash" printed by each successful
run elsewhere, and pass it back with `--anchor` later (see docs/guide/journal.md).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ebourgogne.audit.chain import GENESIS_HASH, HASHED_FIELDS, compute_hash
from ebourgogne.audit.models import AuditChainHead, AuditEvent

MODIFIED = "modified"
MISSING = "missing"
INSERTED = "inserted"
REORDERED = "reordered"
HEAD = "head"
ANCHOR = "anchor"

# How far back a broken link looks for the event it really points to (in memory: this many hashes).
RECENT_WINDOW = 1000
# How far a renumbered event is searched for its original number.
RENUMBER_SEARCH = 1000

_COLUMNS = (*HASHED_FIELDS, "hash")


@dataclass
class Problem:
    kind: str  # MODIFIED | MISSING | INSERTED | REORDERED | HEAD | ANCHOR
    seq: int  # the first broken link
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class VerifyResult:
    count: int  # events checked
    head_seq: int
    head_hash: str
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _rows(batch_size: int, after: int) -> Iterator[dict[str, Any]]:
    last = after
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq").values_list(*_COLUMNS)[:batch_size])
        if not batch:
            return
        for values in batch:
            yield dict(zip(_COLUMNS, values, strict=True))
        last = batch[-1][0]


def _read_head() -> tuple[int, str] | None:
    head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    return (head[0], head[1]) if head else None


def _original_seq(row: dict[str, Any]) -> int | None:
    """The number this event was recorded under, when it has been renumbered."""
    candidate = dict(row)
    for distance in range(1, RENUMBER_SEARCH + 1):
        for seq in (row["seq"] - distance, row["seq"] + distance):
            if seq < 1:
                continue
            candidate["seq"] = seq
            if compute_hash(candidate) == row["hash"]:
                return seq
    return None


def _row_at(seq: int) -> dict[str, Any] | None:
    values = AuditEvent.objects.filter(seq=seq).values_list(*_COLUMNS).first()
    return dict(zip(_COLUMNS, values, strict=True)) if values else None


def _classify(row: dict[str, Any], previous_hash: str, recent: OrderedDict[str, int]) -> Problem:
    """Why `row` (which carries the expected seq) does not follow the chain."""
    seq = row["seq"]
    if row["prev_hash"] != previous_hash and row["prev_hash"] in recent:
        # It points back to an earlier event: the ones in between were slipped in.
        linked = recent[row["prev_hash"]]
        return Problem(INSERTED, linked + 1, {"count": seq - linked - 1})
    if compute_hash(row) == row["hash"]:
        # Its own content is intact but it does not follow its predecessor: that one was replaced.
        return Problem(MODIFIED, max(seq - 1, 1), {"replaced": True})
    original = _original_seq(row)
    if original is None:
        follower = _row_at(seq + 1)
        if follower is not None and follower["prev_hash"] == previous_hash:
            # The next event links over this one: this one was slipped in.
            return Problem(INSERTED, seq, {"count": 1})
        return Problem(MODIFIED, seq, {})
    if original > seq:
        # Recorded further on: swapped with the event now at its old number, or the events before it
        # were removed and the rest renumbered.
        counterpart = _row_at(original)
        if counterpart is not None and _original_seq(counterpart) == seq:
            return Problem(REORDERED, seq, {"recorded_as": original})
        return Problem(MISSING, seq, {"count": original - seq, "recorded_as": original})
    return Problem(REORDERED, seq, {"recorded_as": original})


def verify_chain(*, batch_size: int = 2000, anchors: Iterable[tuple[int, str]] = ()) -> VerifyResult:
    """Check the whole chain; stop at the first broken link."""
    anchor_map = dict(anchors)
    recent: OrderedDict[str, int] = OrderedDict()
    expected_seq = 1
    previous_hash = GENESIS_HASH
    count = 0
    last_seen = 0

    def result(problem: Problem | None) -> VerifyResult:
        head = _read_head() or (0, GENESIS_HASH)
        return VerifyResult(count=count, head_seq=head[0], head_hash=head[1], problem=problem)

    while True:
        for row in _rows(batch_size, last_seen):
            seq = row["seq"]
            if seq < expected_seq:
                return result(Problem(INSERTED, seq, {"count": 1}))
            if seq > expected_seq:
                head = _read_head()
                if head is not None and expected_seq > head[0]:
                    return result(Problem(INSERTED, seq, {"count": 1, "head_seq": head[0]}))
                return result(Problem(MISSING, expected_seq, {"count": seq - expected_seq}))
            if row["prev_hash"] != previous_hash or compute_hash(row) != row["hash"]:
                head = _read_head()
                linked_back = row["prev_hash"] != previous_hash and row["prev_hash"] in recent
                if head is not None and seq > head[0] and not linked_back:
                    return result(Problem(INSERTED, seq, {"count": 1, "head_seq": head[0]}))
                return result(_classify(row, previous_hash, recent))
            if seq in anchor_map and anchor_map[seq] != row["hash"]:
                return result(Problem(ANCHOR, seq, {"expected": anchor_map[seq], "found": row["hash"]}))
            count += 1
            previous_hash = row["hash"]
            recent[previous_hash] = seq
            if len(recent) > RECENT_WINDOW:
                recent.popitem(last=False)
            expected_seq = seq + 1
            last_seen = seq
        # End of the table as we saw it. Events appended meanwhile are checked too before concluding.
        head = _read_head()
        if head is None:
            if count:
                return result(Problem(HEAD, last_seen, {"missing": True}))
            break
        head_seq, head_hash = head
        if head_seq > last_seen:
            if AuditEvent.objects.filter(seq__gt=last_seen).exists():
                continue
            return result(Problem(MISSING, last_seen + 1, {"count": head_seq - last_seen, "head_seq": head_seq}))
        if head_seq < last_seen:
            return result(Problem(INSERTED, head_seq + 1, {"count": last_seen - head_seq, "head_seq": head_seq}))
        if head_hash != previous_hash:
            return result(Problem(HEAD, last_seen, {"head_hash": head_hash}))
        break
    for seq, expected in sorted(anchor_map.items()):
        if seq > last_seen:
            return result(Problem(ANCHOR, seq, {"expected": expected, "found": None}))
    return result(None)


def explain(problem: Problem) -> str:
    """One translated sentence naming the first broken link and what is wrong with it."""
    detail = problem.detail
    seq = problem.seq
    if problem.kind == MODIFIED:
        if detail.get("replaced"):
            return _(
                "n° %(seq)s : contenu modifié — l'événement suivant ne s'y rattache plus "
                "(événement remplacé, empreinte recalculée)."
            ) % {"seq": seq}
        return _("n° %(seq)s : contenu modifié — l'empreinte enregistrée ne correspond plus au contenu.") % {"seq": seq}
    if problem.kind == MISSING:
        count = detail.get("count", 1)
        if "head_seq" in detail:
            return ngettext(
                "n° %(seq)s : événement manquant — la tête de chaîne en annonce %(head)s, le journal s'arrête avant.",
                "n° %(seq)s : %(count)s événements manquants — la tête de chaîne en annonce %(head)s, "
                "le journal s'arrête avant.",
                count,
            ) % {"seq": seq, "count": count, "head": detail["head_seq"]}
        return ngettext(
            "n° %(seq)s : événement manquant (supprimé).",
            "n° %(seq)s : %(count)s événements manquants (supprimés) à partir d'ici.",
            count,
        ) % {"seq": seq, "count": count}
    if problem.kind == INSERTED:
        if "head_seq" in detail:
            return _(
                "n° %(seq)s : événement inséré — il se trouve après la tête de chaîne (n° %(head)s) "
                "(événement ajouté hors de l'application, ou tête de chaîne modifiée)."
            ) % {"seq": seq, "head": detail["head_seq"]}
        return _("n° %(seq)s : événement inséré — la chaîne ne passe pas par lui.") % {"seq": seq}
    if problem.kind == REORDERED:
        return _("n° %(seq)s : ordre modifié — cet événement a été enregistré sous le n° %(original)s.") % {
            "seq": seq,
            "original": detail["recorded_as"],
        }
    if problem.kind == HEAD:
        if detail.get("missing"):
            return _("n° %(seq)s : tête de chaîne absente — la ligne qui retient le dernier événement a disparu.") % {
                "seq": seq
            }
        return _("n° %(seq)s : tête de chaîne incohérente — son empreinte diffère de celle du dernier événement.") % {
            "seq": seq
        }
    if detail.get("found") is None:
        return _("n° %(seq)s : point de repère introuvable — cet événement n'existe plus.") % {"seq": seq}
    return _("n° %(seq)s : point de repère différent — l'empreinte n'est plus celle relevée auparavant.") % {"seq": seq}
