"""history's pieces on their own: comment splitting, pairing, classification, the layers."""

from __future__ import annotations

from reviewtool.diff import parse
from reviewtool.history import comments, pairing
from reviewtool.history.classify import classify
from reviewtool.model import Patch, Reply, Trailer
from tests.test_import_contract import _arrows

DIFF = ("diff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1,2 +1,3 @@ int f(void)\n"
        " {\n+\tx = kmalloc(8, GFP_KERNEL);\n }\n")


def reply(body: str, trailers: tuple[Trailer, ...] = ()) -> Reply:
    return Reply("r@x", "Rev <rev@x>", "2024-01-01T00:00:00+00:00", "Re: x", "p@x", body, 1, trailers)


def patch(index: int, subject: str, diff: str, patch_id: str | None = None) -> Patch:
    return Patch(index, 3, subject, subject, f"{index}@x", "A <a@x>", "2024-01-01T00:00:00+00:00", "msg\n",
                 diff, tuple(x.path for x in parse(diff).files), patch_id=patch_id)


def test_split_gives_each_quote_its_words_and_drops_greetings_trailers_and_signature() -> None:
    body = ("Hi,\n\nOn Mon, A wrote:\n> +\tx = kmalloc(8, GFP_KERNEL);\n\nThis can fail.\n\n"
            "> > older quote\n> + y();\n\nWhy y?\n\nReviewed-by: Rev <rev@x>\n\nThanks,\nRev\n-- \nsig\n")
    got = comments.split(reply(body))
    assert [(c.quote, c.words) for c in got] == [(("+\tx = kmalloc(8, GFP_KERNEL);",), "This can fail."),
                                                 (("+ y();",), "Why y?")]


def test_split_leaves_the_words_that_come_with_a_trailer_to_the_trailer() -> None:
    t = Trailer("Acked-by", "Rev <rev@x>", "Rev <rev@x>")
    assert comments.split(reply("Looks good.\n\nAcked-by: Rev <rev@x>\n", (t,))) == []


def test_pairing_uses_patch_id_then_subject_then_content_and_reports_new_and_dropped() -> None:
    other = DIFF.replace("kmalloc(8", "kzalloc(8")
    old = (patch(1, "a: one", DIFF, "p1"), patch(2, "a: two", other), patch(3, "a: gone", "diff --git a/g.c b/g.c\n"))
    new = (patch(1, "a: renamed", DIFF, "p1"), patch(2, "a: two", DIFF.replace("8", "16")),
           patch(3, "a: brand new", "diff --git a/h.c b/h.c\n"))
    got = {(p.old.index if p.old else None, p.new.index if p.new else None): (p.how, p.verdict)
           for p in pairing.pair(old, new)}
    assert got == {(1, 1): ("patch-id", "unchanged"), (2, 2): ("subject", "changed"),
                   (None, 3): ("", "new"), (3, None): ("", "dropped")}


def test_pairing_pairs_a_renamed_and_changed_patch_by_content() -> None:
    old = (patch(1, "a: first name", DIFF),)
    new = (patch(1, "a: second name", DIFF.replace("GFP_KERNEL", "GFP_ATOMIC") + "+\tfoo();\n"),)
    assert [(p.how, p.verdict) for p in pairing.pair(old, new)] == [("content", "changed")]


def test_classify_picks_the_category_whose_words_the_comment_uses() -> None:
    assert classify("Why is a spinlock needed? This races with the irq handler.") == "locking_concurrency"
    assert classify("kmalloc can fail here: check for NULL.") == "alloc_failure"
    assert classify("Please document this in the kernel-doc comment.") == "docs"
    assert classify("Which machines did you test this on?") == "testing_request"
    assert classify("Nice.") == "other"


def test_history_imports_neither_fetch_nor_rebase() -> None:
    bad = [(s, d, w) for s, d, w in _arrows() if s == "history" and d in ("fetch", "rebase", "check", "report")]
    assert not bad


def test_split_leaves_out_the_mailing_list_footer_mailman_appends() -> None:
    footer = ("_______________________________________________\nlinux-arm-kernel mailing list\n"
              "linux-arm-kernel@lists.infradead.org\nhttp://lists.infradead.org/mailman/listinfo/linux-arm-kernel\n")
    got = comments.split(reply("> +\tx = kmalloc(8, GFP_KERNEL);\n\nThis can fail.\n\n" + footer))
    assert [c.words for c in got] == ["This can fail."]
    assert comments.split(reply("Acked-by: Rev <rev@x>\n\n> ---\n" + footer)) == []


def test_code_history_names_functions_from_definitions_and_assembly_entry_macros_only() -> None:
    from reviewtool.history.code import function_name

    assert function_name("static int __init arm64_memblock_init(void)") == "arm64_memblock_init"
    assert function_name("SYM_FUNC_START(__cpu_setup)") == "__cpu_setup"
    assert function_name("ENTRY(cpu_resume)") == "cpu_resume"
    assert function_name("SYM_CODE_END(__kvm_hyp_init)") is None  # the end of a function names none
    assert function_name("DEFINE_PER_CPU(int, counter)") is None
    assert function_name("struct foo {") is None
