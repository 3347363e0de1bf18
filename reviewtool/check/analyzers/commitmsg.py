"""Commit message and trailers: sign-offs, Fixes:, subject prefix, changelog, motivation.

- COMMIT-SOB-AUTHOR: no Signed-off-by from the author (From:, or an in-body From: line),
  or a Co-developed-by not followed by that person's Signed-off-by.
- COMMIT-FIXES-FORMAT: a Fixes: tag without 12+ hex digits and the ("quoted title").
- COMMIT-SUBJECT-PREFIX: a subject whose prefix does not name the area the patch touches
  (`arm64:` for arch/arm64, `arm64: kexec:` for the arm64 kexec files, `kexec:`/`crash:`
  for the generic kexec/kdump code).
- COMMIT-CHANGELOG-IN-MESSAGE: version notes ("Changes in v3", "v2 -> v3") above `---`,
  where they would end up in git history.
- COMMIT-MOTIVATION: a change whose message says nothing, or too little for its size, about why.
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit
from reviewtool.check.diff import PatchDiff
from reviewtool.check.patterns import lazy
from reviewtool.model import Evidence, Patch

SOB = "COMMIT-SOB-AUTHOR"
FIXES = "COMMIT-FIXES-FORMAT"
PREFIX = "COMMIT-SUBJECT-PREFIX"
CHANGELOG = "COMMIT-CHANGELOG-IN-MESSAGE"
MOTIVATION = "COMMIT-MOTIVATION"

_TRAILER = rx.compile(r"^([A-Za-z][A-Za-z-]*[A-Za-z]):\s*(.*)$")
_KNOWN_TRAILERS = frozenset({"signed-off-by", "co-developed-by", "fixes", "reviewed-by", "acked-by", "tested-by",
                             "suggested-by", "reported-by", "cc", "link", "closes", "message-id", "change-id"})
_FIXES_OK = lazy(r"^[0-9a-f]{12,40} \(\".+\"\)$")
_CHANGELOG = rx.compile(r"^\s*(?:changes\s+(?:in|since|from|for)\s+v\d+|changelog\b|v\d+\s*(?:->|→|to|vs\.?)\s*v\d+"
                        r"|(?:\[\s*)?v\d+\s*(?:\]|:)\s*(?:\S|$)|since\s+v\d+\s*:|-{3,}\s*v\d+)", re.I)
# (changed lines, words of description needed): a larger change needs a longer argument
_WORDS_NEEDED = ((40, 30), (30, 12), (1, 1))


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Check each patch's message and trailers."""
    hits: list[Hit] = []
    for pd in ctx.diffs:
        p = pd.patch
        lines = p.message.split("\n")
        hits.extend(_sign_offs(pd.index, p, lines))
        hits.extend(_fixes(pd.index, p, lines))
        hits.extend(_changelog(pd.index, lines))
        hits.extend(_motivation(pd, lines))
        if ctx.kernel_patch(pd.index):
            hits.extend(_prefix(pd))
    return hits


def _ev(patch: int, lines: list[str]) -> tuple[Evidence, ...]:
    return (Evidence(patch, None, None, tuple(lines[:12])),)


def _trailers(lines: list[str]) -> list[tuple[str, str, str]]:
    """(name lowercased, value, the line) of every known trailer in the message."""
    out = []
    for ln in lines:
        m = _TRAILER.match(ln.strip())
        if m and m.group(1).lower() in _KNOWN_TRAILERS:
            out.append((m.group(1).lower(), m.group(2).strip(), ln.strip()))
    return out


_ADDR = rx.compile(r"^\s*\"?([^\"<]*?)\"?\s*<([^>]*)>")


def _person(value: str) -> tuple[str, str]:
    """(name, address), lowercased, from `Name <addr>` (or a bare address)."""
    m = _ADDR.match(value)
    if m:
        return m.group(1).strip().lower(), m.group(2).strip().lower()
    value = value.strip().lower()
    return ("", value) if "@" in value else (value, "")


def _same(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return bool(a[1] and a[1] == b[1]) or bool(a[0] and a[0] == b[0])


def _sign_offs(index: int, p: Patch, lines: list[str]) -> list[Hit]:
    trailers = _trailers(lines)
    author_line = next((ln for ln in lines[:3] if ln.startswith("From:")), None)
    author = _person(author_line[5:] if author_line else p.author)
    sobs = [(_person(v), line) for name, v, line in trailers if name == "signed-off-by"]
    hits: list[Hit] = []
    if not author[0] and not author[1]:
        return hits
    if not sobs:
        first = p.full_subject or p.subject
        hits.append(Hit(SOB, _ev(index, [f"Subject: {first}"] if first else ["(no Signed-off-by)"]),
                        "The patch has no Signed-off-by: line at all."))
    elif not any(_same(author, who) for who, _ in sobs):
        shown = [line for _, line in sobs] + ([author_line] if author_line else [])
        hits.append(Hit(SOB, _ev(index, shown),
                        f"No Signed-off-by from the author ({p.author if not author_line else author_line[5:].strip()})."))
    for k, (name, value, line) in enumerate(trailers):
        if name != "co-developed-by":
            continue
        nxt = trailers[k + 1] if k + 1 < len(trailers) else None
        if nxt is None or nxt[0] != "signed-off-by" or not _same(_person(value), _person(nxt[1])):
            hits.append(Hit(SOB, _ev(index, [line] + ([nxt[2]] if nxt else [])),
                            f"`{line}` is not immediately followed by the same person's Signed-off-by."))
    return hits


def _fixes(index: int, p: Patch, lines: list[str]) -> list[Hit]:
    hits = []
    tags = [(v, line) for name, v, line in _trailers(lines) if name == "fixes"]
    tags += [(t.value, f"{t.name}: {t.value}") for t in p.trailers if t.name.lower() == "fixes"]
    for value, line in dict.fromkeys(tags):
        if _FIXES_OK().match(value):
            continue
        sha = rx.match(r"^([0-9a-fA-F]+)", value)
        why = ("the commit id has fewer than 12 hex digits" if sha and len(sha.group(1)) < 12
               else "it is not `<12+ hex digits> (\"<subject of the fixed commit>\")`")
        hits.append(Hit(FIXES, _ev(index, [line]), f"Malformed Fixes: tag: {why}."))
    return hits


def _changelog(index: int, lines: list[str]) -> list[Hit]:
    for k, ln in enumerate(lines):
        if _CHANGELOG.match(ln) and not _TRAILER.match(ln.strip()):
            block = [x for x in lines[k:k + 4] if x.strip()]
            return [Hit(CHANGELOG, _ev(index, block),
                        "Version notes are in the commit message (above `---`): they would land in git history.")]
    return []


def _body_words(lines: list[str]) -> list[str]:
    kept = []
    for ln in lines:
        s = ln.strip()
        if not s or s.startswith(("From:", ">")) or (_TRAILER.match(s) and _TRAILER.match(s).group(1).lower()  # type: ignore[union-attr]
                                                       in _KNOWN_TRAILERS):
            continue
        kept.append(s)
    return kept


def _motivation(pd: PatchDiff, lines: list[str]) -> list[Hit]:
    changed = sum(1 for f in pd.files for h in f.hunks for ln in h.lines
                  if ln.kind != " " and ln.text.strip() and f.kind not in ("doc",))
    body = _body_words(lines)
    words = sum(len(s.split()) for s in body)
    if not any(changed >= size and words < needed for size, needed in _WORDS_NEEDED):
        return []
    shown = body or [f"Subject: {pd.patch.subject}", "(no description)"]
    return [Hit(MOTIVATION, _ev(pd.index, shown),
                f"{changed} changed lines, but the message has {words} word{'s' if words != 1 else ''} "
                "of description.")]


# subject prefix -------------------------------------------------------------------------

_ARM64_KEXEC = rx.compile(r"^arch/arm64/(?:kernel/(?:machine_kexec\w*\.c|relocate_kernel\.S|kexec_image\.c|"
                          r"crash_dump\.c)|include/asm/kexec\.h)$")
_GENERIC_KEXEC = rx.compile(r"^(?:kernel/(?:kexec\w*|crash\w*|vmcore_info)\.[ch]|include/linux/(?:kexec|crash_\w+)\.h|"
                            r"fs/proc/vmcore\.c|include/uapi/linux/kexec\.h)$")


def _prefix(pd: PatchDiff) -> list[Hit]:
    paths = [f.path for f in pd.files] or list(pd.patch.files)
    if not paths:
        return []
    subject = rx.sub(r"^\s*(?:\[[^\]]*\]\s*)+", "", pd.patch.subject).strip()
    prefix = subject.rsplit(":", 1)[0].lower() if ":" in subject else ""
    tokens = set(rx.split(r"[\s:/,]+", prefix)) - {""}  # "KVM: arm64:", "arm64/mm:", "arm64: kexec:"
    kexecish = any(t.startswith(("kexec", "kdump", "crash", "vmcore", "kho")) for t in tokens)
    want: str | None = None
    if all(_ARM64_KEXEC.match(p) for p in paths):
        if "arm64" not in tokens or not kexecish:
            want = "arm64: kexec:"
    elif all(p.startswith("arch/arm64/") for p in paths):
        if "arm64" not in tokens:
            want = "arm64:"
    elif all(_GENERIC_KEXEC.match(p) for p in paths):
        if not kexecish:
            want = "kexec: (or crash:, kdump:)"
    if want is None:
        return []
    return [Hit(PREFIX, _ev(pd.index, [f"Subject: {subject}"]),
                f"The subject prefix does not match the files touched ({', '.join(paths[:3])}"
                f"{', ...' if len(paths) > 3 else ''}): expected `{want}`.")]
