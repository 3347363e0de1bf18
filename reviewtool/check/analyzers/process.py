"""How a series is submitted: the questions a maintainer asks before reading the code.

- COMMIT-FIX-NO-FIXES: a patch whose subject says it fixes something and whose message
  says where the bug came from (a commit, a regression), or whose message says in one
  sentence that it fixes a commit it names, with no Fixes: tag and no Cc: stable, in the
  patch or given in a reply.
- COMMIT-FAILURE-NO-STABLE: a message that describes a failure (a crash, a WARN, a
  corruption, a hang) with no Fixes: tag and no Cc: stable: is it a fix for released kernels?
- COMMIT-CARRIED-TAGS: a revision after the first whose patches carry Acked-by/Reviewed-by
  while its change log (cover letter, or the patch's own message) says the code changed.
- COMMIT-RESEND: a series posted again as RESEND.
- TEST-PERFORMANCE-CLAIM: a message that argues with performance (faster, overhead,
  latency, jitter ...): on which machines and workloads was it measured?
- TEST-HARDWARE-SPECIFIC: a CPU erratum workaround or a board/SoC device tree change with
  no Tested-by in the series.
"""

from __future__ import annotations

import re

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit
from reviewtool.check.diff import DiffFile
from reviewtool.model import Evidence, Patch, Series

FIX_NO_FIXES = "COMMIT-FIX-NO-FIXES"
FAILURE_NO_STABLE = "COMMIT-FAILURE-NO-STABLE"
CARRIED_TAGS = "COMMIT-CARRIED-TAGS"
RESEND = "COMMIT-RESEND"
PERFORMANCE = "TEST-PERFORMANCE-CLAIM"
HARDWARE = "TEST-HARDWARE-SPECIFIC"

_FIX_WORD = rx.compile(r"\bfix(?:es|ed|ing)?\b", re.I)
_NOT_A_FIX = rx.compile(r"\b(?:typo|spelling|comment|kernel-doc|warning|checkpatch|coding style|code style|"
                        r"whitespace|documentation|docs?)\b", re.I)
# the message says where the bug came from: then a Fixes: tag can name it
_ORIGIN = rx.compile(r"\bcommit\s+[0-9a-f]{7,40}\b|\b(?:introduced|caused|broken|broke)\s+(?:by|in|since)\b|"
                     r"\bregression\b|\bsince\s+(?:v\d|\d\.\d|commit)", re.I)
# one sentence that says it fixes a commit it names ("fix another issue in commit 0123abcd")
_NAMED_COMMIT = rx.compile(r"\bcommit\s+[0-9a-f]{7,40}\b|\b[0-9a-f]{12,40}\s+\(\"", re.I)
_SENTENCE_END = rx.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# a failure the message describes; not when the change is a tool for debugging such failures
_FAILURE = rx.compile(r"\b(?:crash(?:es|ed|ing)?|oops(?:es)?|panic(?:s|ed)?|WARN\w*\(\)|WARNING:|BUG:|"
                      r"corrupt(?:s|ed|ion|ing)?|hangs?|hung|lock(?:s|ed)?[ -]?up|deadlock(?:s|ed)?|"
                      r"fails? to boot|boot failure|use-after-free|out-of-bounds|null pointer dereference)(?!\w)", re.I)
_DEBUGGING = rx.compile(r"\b(?:debug\w*|detect\w*|diagnos\w*)\s+(?:\w+\s+){0,2}$", re.I)
_STABLE = rx.compile(r"^\s*Cc:.*\bstable@(?:vger\.)?kernel\.org", re.I | re.M)
_FIXES_TAG = rx.compile(r"^\s*Fixes:\s*\S", re.I | re.M)
_REVIEW_TAG = rx.compile(r"^\s*(Acked-by|Reviewed-by|Tested-by):\s*(.+)$", re.I)
_CHANGED = rx.compile(r"\b(?:rework(?:ed)?|rewr(?:ote|itten)|redesign(?:ed)?|re-?implement(?:ed)?|changed|"
                      r"reworked|restructur(?:ed|e)|moved|dropped|replaced|split|new approach)\b", re.I)
_CHANGES_SINCE = rx.compile(r"^\s*(?:changes|changelog|v\d+\s*(?:->|:|\.\.))", re.I | re.M)
_VERSION = rx.compile(r"\bv(\d+)\b", re.I)
_RESEND = rx.compile(r"\bRESEND\b")
_PERF = rx.compile(r"\b(?:performance|faster|slower|speed[- ]?ups?|overhead|latenc(?:y|ies)|jitter|throughput|"
                   r"bottleneck|contention|benchmark\w*|scalab\w+)\b", re.I)
_ERRATUM = rx.compile(r"\b(?:ARM64_ERRATUM_\w+|ARM64_WORKAROUND_\w+|WORKAROUND_\w+|erratum\s+#?\d+|"
                      r"(?:CAVIUM|QCOM|HISILICON|FUJITSU|NVIDIA)_\w*ERRATUM\w*)\b")
_TESTED = rx.compile(r"^\s*Tested-by:", re.I | re.M)
_TRAILER_LINE = rx.compile(r"^\s*[A-Za-z][A-Za-z-]*[A-Za-z]:\s")


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Series-level questions on fixes, tags carried across revisions, resends and claims."""
    s = ctx.series
    hits: list[Hit] = []
    hits.extend(_resend(s))
    hits.extend(_carried_tags(s))
    hits.extend(_performance(s))
    tested = _tested(s)
    for pd in ctx.kernel_diffs():
        p = pd.patch
        fix = _fix_without_fixes(s, p)
        hits.extend(fix or _failure_without_stable(s, p))
        if not tested:
            hits.extend(_hardware(pd.index, pd.files))
    return hits


def _subject_line(index: int, p: Patch) -> tuple[Evidence, ...]:
    return (Evidence(index, None, None, (f"Subject: {p.full_subject or p.subject}",)),)


def _all_text(p: Patch) -> str:
    given = "\n".join(f"{t.name}: {t.value}" for t in p.trailers)
    return f"{p.message}\n{given}"


def _fix_without_fixes(s: Series, p: Patch) -> list[Hit]:
    text = _all_text(p)
    cover = s.cover.body if s.cover else ""
    if _FIXES_TAG.search(text) or _STABLE.search(text) or _STABLE.search(cover):
        return []
    subject = p.subject
    if _FIX_WORD.search(subject) and not _NOT_A_FIX.search(subject) and (
            _ORIGIN.search(p.message) or _ORIGIN.search(cover)):
        return [Hit(FIX_NO_FIXES, _subject_line(p.index, p),
                    "The subject says this fixes something, but there is no Fixes: tag and no Cc: stable.")]
    sentence = _fixes_named_commit(p.message)
    if sentence is None:
        return []
    return [Hit(FIX_NO_FIXES, (Evidence(p.index, None, None, (sentence,)),),
                "The message says this fixes a commit it names, but there is no Fixes: tag and no Cc: stable.")]


def _description(message: str) -> list[str]:
    """The message's lines without trailers and quoted text."""
    return [ln for ln in message.split("\n") if not _TRAILER_LINE.match(ln) and not ln.startswith(">")]


def _fixes_named_commit(message: str) -> str | None:
    """The first sentence of the message that says it fixes a commit it names by id."""
    for paragraph in "\n".join(_description(message)).split("\n\n"):
        for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
            if _FIX_WORD.search(sentence) and _NAMED_COMMIT.search(sentence):
                return sentence
    return None


def _failure_without_stable(s: Series, p: Patch) -> list[Hit]:
    text = _all_text(p)
    cover = s.cover.body if s.cover else ""
    if _FIXES_TAG.search(text) or _STABLE.search(text) or _STABLE.search(cover) or _NOT_A_FIX.search(p.subject):
        return []
    lines = _description(p.message)
    text = "\n".join(lines)
    for m in _FAILURE.finditer(text):
        if _DEBUGGING.search(" ".join(text[max(0, m.start() - 80):m.start()].split()) + " "):
            continue
        k = text.count("\n", 0, m.start())
        shown = tuple(x for x in lines[max(0, k - 1):k + 2] if x.strip())
        return [Hit(FAILURE_NO_STABLE, (Evidence(p.index, None, None, shown),),
                    f"The message describes a failure (`{m.group(0)}`), with no Fixes: tag and no Cc: stable.")]
    return []


def _tags_of_others(p: Patch) -> list[str]:
    author = p.author.lower()
    address = author[author.find("<") + 1:author.find(">")] if "<" in author else author
    out = []
    for line in p.message.split("\n"):
        m = _REVIEW_TAG.match(line)
        if m and address not in m.group(2).lower():
            out.append(line.strip())
    return out


def _revision(s: Series) -> int:
    """The series' revision, or the one its subjects say (`[PATCH v3 ...]`) when that is higher."""
    subjects = ([s.cover.subject] if s.cover else []) + [p.full_subject for p in s.patches[:1]]
    said = [int(m.group(1)) for x in subjects if x.startswith("[") and (m := _VERSION.search(x.split("]", 1)[0]))]
    return max([s.revision, *said])


def _changes(log: str) -> list[str]:
    """The lines of a change log ("Changes in v3:" onwards) that say the code changed."""
    m = _CHANGES_SINCE.search(log)
    if m is None:
        return []
    return [ln.strip() for ln in log[m.start():].split("\n") if _CHANGED.search(ln)]


def _carried_tags(s: Series) -> list[Hit]:
    if _revision(s) < 2:
        return []
    cover_changes = _changes(s.cover.body) if s.cover else []
    hits = []
    for p in s.patches:
        tags = _tags_of_others(p)
        changed = [f"(cover letter) {c}" for c in cover_changes] or _changes(p.message)
        if tags and changed:
            lines = tuple(tags[:6]) + (changed[0],)
            hits.append(Hit(CARRIED_TAGS, (Evidence(p.index, None, None, lines),),
                            f"v{s.revision} carries {len(tags)} review tag{'s' if len(tags) > 1 else ''} "
                            "from earlier postings, and its change log says the code changed."))
    return hits


def _resend(s: Series) -> list[Hit]:
    subject = s.cover.subject if s.cover else (s.patches[0].full_subject if s.patches else "")
    prefix = subject.split("]", 1)[0] if subject.startswith("[") else ""
    if not _RESEND.search(prefix):
        return []
    index = 0 if s.cover else s.patches[0].index
    return [Hit(RESEND, (Evidence(index, None, None, (f"Subject: {subject}",)),),
                "The series is a RESEND.")]


def _performance(s: Series) -> list[Hit]:
    texts = [(0, s.cover.body)] if s.cover else []
    texts += [(p.index, p.message) for p in s.patches]
    for index, text in texts:
        lines = [ln for ln in text.split("\n") if not _TRAILER_LINE.match(ln) and not ln.startswith(">")]
        for k, line in enumerate(lines):
            if _PERF.search(line):
                shown = tuple(x for x in lines[max(0, k - 1):k + 2] if x.strip())
                return [Hit(PERFORMANCE, (Evidence(index, None, None, shown),),
                            f"The {'cover letter' if index == 0 else 'message'} argues with performance.")]
    return []


def _tested(s: Series) -> bool:
    if s.cover and any(t.name.lower() == "tested-by" for t in s.cover.trailers):
        return True
    return any(_TESTED.search(_all_text(p)) for p in s.patches)


def _hardware(index: int, files: tuple[DiffFile, ...]) -> list[Hit]:
    for f in files:
        if f.path.endswith((".dts", ".dtsi")) and f.path.startswith("arch/"):
            first = next(((h, i) for h in f.hunks for i, ln in enumerate(h.lines) if ln.kind != " "), None)
            if first is not None:
                h, i = first
                return [Hit(HARDWARE, (Evidence(index, f.path, h.lines[i].new_no, (h.lines[i].prefixed,),
                                                h.number, i),),
                            "A board device tree changes, and nobody has given a Tested-by.")]
        for h in f.hunks:
            for i, ln in enumerate(h.lines):
                if ln.kind == "+" and _ERRATUM.search(ln.text):
                    return [Hit(HARDWARE, (Evidence(index, f.path, ln.new_no, (ln.prefixed,), h.number, i),),
                                "An erratum workaround changes, and nobody has given a Tested-by.")]
    return []
