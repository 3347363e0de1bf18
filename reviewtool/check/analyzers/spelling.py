"""COMMIT-MESSAGE-TYPO: words of a commit message that look misspelled.

Two kinds: English words from a list of common misspellings in kernel logs, and names
(identifiers, feature and register names) that appear nowhere in the patch while a name
one letter away does: the message then likely names the wrong thing (`S2FWD` for `S2FWB`).
"""

from __future__ import annotations

import re
from collections import Counter

from reviewtool import rx
from reviewtool.check.analyzers import AnalyzerContext, Hit
from reviewtool.model import Evidence

TYPO = "COMMIT-MESSAGE-TYPO"

# common misspellings in commit messages (lower case) -> the word meant
MISSPELLINGS = {
    "accesible": "accessible", "accomodate": "accommodate", "acheive": "achieve", "adress": "address",
    "agressive": "aggressive", "allign": "align", "alloacte": "allocate", "allocatation": "allocation",
    "alocate": "allocate", "appropiate": "appropriate", "arbitary": "arbitrary", "architecure": "architecture",
    "argumnet": "argument", "assosiated": "associated", "asynchonous": "asynchronous", "availabe": "available",
    "avaliable": "available", "becuase": "because", "begining": "beginning", "boundry": "boundary",
    "calulate": "calculate", "cant": "can't", "comparision": "comparison", "compatability": "compatibility",
    "compatable": "compatible", "completly": "completely", "concurent": "concurrent", "configration": "configuration",
    "consistant": "consistent", "correspoding": "corresponding", "currenly": "currently", "defintion": "definition",
    "dependancy": "dependency", "dependant": "dependent", "desciption": "description", "destory": "destroy",
    "diffrent": "different", "doesnt": "doesn't", "enviroment": "environment", "exeption": "exception",
    "existance": "existence", "explicitely": "explicitly", "extention": "extension", "fucntion": "function",
    "funtion": "function", "guarentee": "guarantee", "hierachy": "hierarchy", "immediatly": "immediately",
    "implemenation": "implementation", "implementaion": "implementation", "incompatable": "incompatible",
    "independant": "independent", "initalize": "initialize", "initialisation": "initialisation",
    "initilize": "initialize", "intial": "initial", "intialize": "initialize", "invalide": "invalid",
    "lenght": "length", "maintainance": "maintenance", "memeory": "memory", "mesage": "message",
    "neccessary": "necessary", "necessery": "necessary", "occured": "occurred", "occurence": "occurrence",
    "ommited": "omitted", "paramter": "parameter", "perfomance": "performance", "permision": "permission",
    "persistant": "persistent", "posible": "possible", "prefered": "preferred", "previos": "previous",
    "priviledge": "privilege", "proccess": "process", "recieve": "receive", "recieved": "received",
    "reenable": "re-enable", "refered": "referred", "regiser": "register", "relevent": "relevant",
    "reponsible": "responsible", "resouce": "resource", "retreive": "retrieve", "seperate": "separate",
    "seperately": "separately", "succesful": "successful", "successfull": "successful", "sucess": "success",
    "suppport": "support", "supress": "suppress", "suprise": "surprise", "thier": "their", "transfered": "transferred",
    "trucate": "truncate", "unecessary": "unnecessary", "unneccessary": "unnecessary", "untill": "until",
    "usefull": "useful", "wich": "which", "wierd": "weird", "writting": "writing",
}
MISSPELLINGS.pop("initialisation")  # British spelling, not a typo
MISSPELLINGS.pop("cant")  # too often a quoting of code or a name

_WORD = rx.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")
_NAME = rx.compile(r"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")
_TRAILER = rx.compile(r"^\s*[A-Za-z][A-Za-z-]*[A-Za-z]:\s")
_QUOTED = rx.compile(r"\(\".*?\"\)|\"[^\"]*\"|`[^`]*`")
_MAX_SHOWN = 3
# page-table levels and similar families: names that differ only there are different things
_FAMILY = rx.compile(r"p(?:te|md|ud|gd|4d)|[iu]cache|[dw]cache|[rw]lock|[rw]sem|[iu]sr|[rw]x", re.I)


def analyze(ctx: AnalyzerContext) -> list[Hit]:
    """Misspelled words and misnamed identifiers in each patch's message and subject."""
    hits: list[Hit] = []
    for pd in ctx.diffs:
        p = pd.patch
        names = set(_NAME.findall("\n".join(ln.text for f in pd.files for h in f.hunks for ln in h.lines)))
        lines = [p.subject] + [ln for ln in p.message.split("\n") if not _TRAILER.match(ln)]
        found: list[tuple[str, str, str]] = []  # (word, meant, line)
        seen: set[str] = set()
        said = Counter(m.group(0) for ln in lines for m in _NAME.finditer(ln))
        for line in lines:
            if line.startswith(("    ", "\t")) or line.lstrip().startswith(">"):
                continue  # quoted mail, code, logs: not the author's prose
            text = _QUOTED.sub(" ", line)
            for m in _WORD.finditer(text):
                meant = MISSPELLINGS.get(m.group(0).lower())
                if meant and m.group(0) not in seen:
                    seen.add(m.group(0))
                    found.append((m.group(0), meant, line))
            for m in _NAME.finditer(text):
                word = m.group(0)
                if word in seen or word in names or not _looks_like_name(word):
                    continue
                # the name meant is the code's, or one the message itself uses more often
                known = names | {n for n, k in said.items() if k > said[word]}
                meant_name = _one_off(word, known - {word})
                if meant_name:
                    seen.add(word)
                    found.append((word, meant_name, line))
        if found:
            shown = ", ".join(f"'{w}' ({meant}?)" for w, meant, _ in found[:_MAX_SHOWN])
            lines_shown = tuple(dict.fromkeys(line.strip() for _, _, line in found))[:_MAX_SHOWN]
            hits.append(Hit(TYPO, (Evidence(pd.index, None, None, lines_shown),),
                            f"The message spells {shown}."))
    return hits


def _looks_like_name(word: str) -> bool:
    """Identifiers and feature names: an underscore, a digit, or two capitals (not an all-lower English word)."""
    return "_" in word or any(c.isdigit() for c in word) or sum(c.isupper() for c in word) >= 2


def _one_off(word: str, names: set[str]) -> str | None:
    """A name that differs from `word` by one letter (substituted, or two neighbours swapped).

    Digits are never the difference (EL1/EL2, TTBR0/TTBR1 are different things), nor case.
    """
    for name in names:
        if len(name) != len(word) or name.lower() == word.lower():
            continue
        if _FAMILY.sub("~", name).lower() == _FAMILY.sub("~", word).lower():
            continue
        diff = [i for i, (a, b) in enumerate(zip(word, name, strict=True)) if a != b]
        if len(diff) == 1:
            a, b = word[diff[0]], name[diff[0]]
            if not (a.isdigit() or b.isdigit()) and a.isalpha() and b.isalpha() and a.isupper() == b.isupper():
                return name
        elif (len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == name[diff[1]]
              and word[diff[1]] == name[diff[0]]):
            return name
    return None
