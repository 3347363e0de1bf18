"""Mails that look like patches or replies but are sent by automation, told by sender and shape.

Three kinds, none of them the series or one of its patches, all kept as replies:
- "robot-suggestion": a build robot's fix-up patch sent in reply to a patch (the kbuild/LKP
  "[RFC PATCH] foo can be static", which signs and reports it itself);
- "commit-notification": a tree's note that a commit was merged ("[tip: x86/urgent] ...",
  "The following commit has been merged into ...", "has been added to the stable tree");
- "applied": a maintainer's or a bot's "applied, thanks" answer.

No list of robot names: a sender is automated when its name or address says so as a word
(robot, bot, lkp, noreply, ci), or when a patch is reported and signed by its own sender.
Pure text work on a parsed message; nothing here imports b4.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from reviewtool import rx
from reviewtool.fetch.lightmail import LightMessage, mailbox

if TYPE_CHECKING:
    from email.message import EmailMessage

BotKind = Literal["robot-suggestion", "commit-notification", "applied"]
# What each kind is called in a summary.
KIND_TITLES: dict[str, str] = {"robot-suggestion": "robot suggestion", "commit-notification": "commit notification",
                               "applied": "applied notice"}

_AUTOMATED = rx.compile(r"(?:^|[^a-z0-9])(?:robot|[a-z]*bot[0-9]?|lkp|no-?reply|ci|buildbot|autobuild)(?:[^a-z0-9]|$)", re.I)
# "[tip: x86/urgent]", "[git:media_tree/master]", "[net-next:main]": a tree and a branch, no PATCH.
_TREE_PREFIX = rx.compile(r"^\s*\[(?![^\]]*\bpatch\b)[\w.+-]+(?: tree)?:\s*[\w.+/-]+\]", re.I)
_MERGED_BODY = rx.compile(
    r"^(?:The following commit has been merged into|This is a note to let you know that I've just added the patch"
    r"|The patch below (?:does not apply|was merged)|Commit-ID:\s+[0-9a-f]{12,})", re.I | re.M)
_APPLIED = rx.compile(
    r"^\s*(?:(?:applied|queued|pushed|picked up|merged)\b[^\n]{0,120}\b(?:thanks?|thank you)\b"
    r"|(?:thanks?|thank you)[,!. ]+(?:applied|queued|pushed|picked up|merged)\b"
    r"|This (?:patch|series) was applied to\b)", re.I | re.M)
# A maintainer's script telling the author a patch was applied, the commit attached
# ('Applied "spi: sun4i: Add YAML schemas" to the spi tree': "The patch ... has been
# applied to the spi tree at ...", then the commit as git format-patch writes it).
_APPLIED_SUBJECT = rx.compile(r'^\s*Applied "[^"\n]+" to the [\w./+-]+ tree\b', re.I)
_APPLIED_TO_TREE = rx.compile(r"^\s*has been applied to the [\w./+-]+ tree\b", re.I | re.M)
_DIFF = rx.compile(r"^(?:diff --git |--- \S+\n\+\+\+ )", re.M)
_TRAILER = rx.compile(r"^(Reported-by|Signed-off-by):\s*(.+)$", re.I | re.M)


def _text(msg: EmailMessage | LightMessage) -> str:
    if isinstance(msg, LightMessage):
        return msg.content()
    try:
        part = msg.get_body(preferencelist=("plain",))
        content = part.get_content() if part is not None else ""
    except (LookupError, ValueError, TypeError, AttributeError, UnicodeError, RecursionError):
        return ""
    return content if isinstance(content, str) else ""


def _headers(msg: EmailMessage | LightMessage) -> dict[str, str]:
    """The raw headers this module reads (the first of each), unfolded; RFC 2047 words decoded.
    Raw, because the email policy's parsing of every header costs a millisecond a mail."""
    want = {"subject", "from", "in-reply-to", "references"}
    out: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key in want and key not in out:
            text = " ".join(str(value).split())
            if "=?" in text:
                import email.errors
                import email.header

                try:
                    text = str(email.header.make_header(email.header.decode_header(text)))
                except (LookupError, ValueError, UnicodeError, email.errors.HeaderParseError):
                    pass
            out[key] = text
    return out


def _unquoted(text: str) -> str:
    return "\n".join(ln for ln in text.split("\n") if not ln.lstrip().startswith(">"))


def _parseaddr(text: str) -> tuple[str, str]:
    """email.utils.parseaddr(text); a plain address is read without importing email.utils."""
    found = mailbox(text)
    if found is not None:
        return found
    import email.utils

    return email.utils.parseaddr(text)


def automated_sender(sender: str) -> bool:
    """Whether a From: names automation (`kernel test robot <lkp@intel.com>`, `tip-bot2 for X`)."""
    name, addr = _parseaddr(sender)
    local = addr.split("@")[0]
    return bool(_AUTOMATED.search(name) or _AUTOMATED.search(local))


def _self_reported(text: str, sender: str) -> bool:
    """A patch whose Reported-by and Signed-off-by are both its own sender (what robots send)."""
    addr = _parseaddr(sender)[1].lower()
    if not addr:
        return False
    found = {(m.group(1).lower(), _parseaddr(m.group(2))[1].lower()) for m in _TRAILER.finditer(text)}
    return ("reported-by", addr) in found and ("signed-off-by", addr) in found


def bot_kind(msg: EmailMessage | LightMessage) -> BotKind | None:
    """What kind of automated or bookkeeping mail msg is, None for a person's patch or reply."""
    head = _headers(msg)
    subject = head.get("subject", "")
    sender = head.get("from", "")
    replying = bool(head.get("in-reply-to") or head.get("references"))
    is_reply = bool(rx.match(r"^\s*(?:re|aw|sv|antw)\s*:", subject, re.I))
    text = _text(msg)
    own = _unquoted(text)
    if not is_reply and (_TREE_PREFIX.match(subject) or _MERGED_BODY.search(own[:2000])):
        return "commit-notification"
    if not is_reply and replying and _DIFF.search(own) and (
            automated_sender(sender) or _self_reported(own, sender)):
        return "robot-suggestion"
    if (is_reply or replying) and not _DIFF.search(own) and _APPLIED.search(own):
        return "applied"
    if replying and (_APPLIED_SUBJECT.match(subject) or _APPLIED_TO_TREE.search(own[:2000])):
        return "applied"  # the commit it carries is the applied patch, not a new one
    return None


def carries_patch(msg: EmailMessage | LightMessage) -> bool:
    """Whether msg holds a diff of its own (not quoted): b4 would take it for a patch."""
    return _DIFF.search(_unquoted(_text(msg))) is not None


_SCISSORS = rx.compile(r"^\s*-{2,}\s*(?:>8|8<)\s*-{2,}\s*$|^\s*>8\s*$", re.M)
_PASTED_HEAD = rx.compile(r"^(?:Subject: |From: .*<[^>]+>$|Date: )", re.M)


def pasted_patch_start(text: str) -> int | None:
    """Where a patch pasted into a reply begins (a scissors line, else its mail headers or the
    paragraph above its `---`), None when the reply carries no unquoted diff of its own."""
    own = _unquoted(text)
    m = _DIFF.search(own)
    if not m:
        return None
    before = own[: m.start()]
    cut = _SCISSORS.search(before) or _PASTED_HEAD.search(before)
    if cut:
        start = cut.start()
    else:
        sep = before.rfind("\n---\n")
        block = before[:sep] if sep != -1 else before
        para = block.rstrip("\n").rfind("\n\n")
        start = para + 1 if para != -1 else 0
    # as an offset in the full text: the unquoted lines above the pasted part
    lines_above = own[:start].count("\n")
    offset, seen = 0, 0
    for ln in text.split("\n"):
        if seen == lines_above:
            break
        offset += len(ln) + 1
        if not ln.lstrip().startswith(">"):
            seen += 1
    return offset
