"""Every analyzer rule fires on its fire.patch and stays silent on its nofire.patch.

The cases live beside the rules, in rules/cases/<ID>/; the rules are those of the two
analyzer packs. Each case is a plain diff or a format-patch mbox (one or more mails).
"""

from __future__ import annotations

import email
import re
import tomllib
from email import policy
from pathlib import Path

import pytest

from reviewtool.check.analyzers import AnalyzerContext, Hit, run_analyzer
from reviewtool.check.diff import parse_series
from reviewtool.model import Patch, Series

ROOT = Path(__file__).resolve().parents[1]
PACKS = (ROOT / "rules" / "kernel-analyzers.toml", ROOT / "rules" / "arm64-kexec-analyzers.toml")
CASES = ROOT / "rules" / "cases"

_MBOX_SEP = re.compile(r"^From [0-9a-f]{40} ", re.M)
_PREFIX = re.compile(r"^\s*\[[^\]]*?(?:(\d+)/(\d+))?\]\s*")


def patches_from_text(text: str) -> tuple[Patch, ...]:
    """Patches from a plain diff, or from a format-patch mbox (commit message above `---`)."""
    starts = [m.start() for m in _MBOX_SEP.finditer(text)]
    if not starts and not text.startswith(("From:", "Subject:")):
        return (Patch(index=1, expected=1, subject="", full_subject="", msgid="<case-1@test>", author="",
                      date="", message="", diff=text, files=()),)
    chunks = [text[a:b] for a, b in zip(starts or [0], (starts or [0])[1:] + [len(text)], strict=True)]
    out = []
    for n, chunk in enumerate(chunks, 1):
        msg = email.message_from_string(chunk, policy=policy.default)
        body = str(msg.get_content())
        message, _, rest = body.partition("\n---\n")
        start = rest.find("diff --git")
        diff = rest[start:] if start >= 0 else ""
        full = str(msg["subject"] or "")
        m = _PREFIX.match(full)
        index = int(m.group(1)) if m and m.group(1) else n
        out.append(Patch(index=index, expected=len(chunks), subject=_PREFIX.sub("", full), full_subject=full,
                         msgid=str(msg["message-id"] or f"<case-{n}@test>"), author=str(msg["from"] or ""),
                         date=str(msg["date"] or ""), message=message.strip() + "\n", diff=diff, files=()))
    return tuple(out)


def run_case(path: Path, analyzer: str) -> list[Hit]:
    patches = patches_from_text(path.read_text())
    series = Series(id="case", revision=1, expected=len(patches), subject=patches[0].subject, author="",
                    date="", msgid=patches[0].msgid, cover=None, patches=patches)
    ctx = AnalyzerContext(series=series, diffs=parse_series(series))
    return run_analyzer(analyzer, ctx)


def _rules() -> list[tuple[str, str]]:
    out = []
    for pack in PACKS:
        for rule in tomllib.loads(pack.read_text())["rule"]:
            out.append((rule["id"], rule["analyzer"]))
    return out


RULES = _rules()


def test_every_analyzer_rule_has_both_cases() -> None:
    assert len(RULES) >= 20
    for rule_id, _ in RULES:
        assert (CASES / rule_id / "fire.patch").is_file(), rule_id
        assert (CASES / rule_id / "nofire.patch").is_file(), rule_id


@pytest.mark.parametrize(("rule_id", "analyzer"), RULES, ids=[r for r, _ in RULES])
def test_rule_fires_on_its_fire_case(rule_id: str, analyzer: str) -> None:
    hits = [h for h in run_case(CASES / rule_id / "fire.patch", analyzer) if h.rule == rule_id]
    assert hits, f"{rule_id} did not fire"
    assert any(h.status == "needs-review" for h in hits)
    for h in hits:
        assert h.evidence and all(e.lines for e in h.evidence)
        assert h.message


@pytest.mark.parametrize(("rule_id", "analyzer"), RULES, ids=[r for r, _ in RULES])
def test_rule_is_silent_on_its_nofire_case(rule_id: str, analyzer: str) -> None:
    hits = [h for h in run_case(CASES / rule_id / "nofire.patch", analyzer) if h.rule == rule_id]
    assert hits == []
