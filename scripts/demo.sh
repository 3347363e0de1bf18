#!/usr/bin/env bash
# The main job on the bundled sample, end to end and offline:
#   1. build a small kernel-like repository (tags v5.14-rc4, v5.15-rc1) and the sample
#      series mailed against it, with replies (fixtures/kernel_repo.py);
#   2. reviewtool fetch   the series from its mbox (b4 picks the revision, collects trailers);
#   3. reviewtool rebase  it onto v5.15-rc1 without touching the repository's checkout;
#   4. reviewtool check   it: the reviewer checklist with the lines behind each question;
#   5. reviewtool rebase  onto both tags in one pass: the patch x target matrix;
#   6. reviewtool review  the same in one go, writing every format for CI and the list.
# Everything goes to a temporary directory that is removed at the end.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."
top=$PWD
rt="$top/$venv/bin/reviewtool"
work=$(mktemp -d "${TMPDIR:-/tmp}/reviewtool-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export REVIEWTOOL_STORE="$work/store"

"$top/$venv/bin/python" fixtures/kernel_repo.py "$work" >/dev/null
cd "$work/linux"
step() { printf '\n== %s\n' "$*"; }

step "reviewtool fetch series.mbox --offline"
"$rt" fetch "$work/series.mbox" --offline

step "reviewtool rebase --onto v5.15-rc1      (exit 1: one patch conflicts, as planned)"
"$rt" rebase --onto v5.15-rc1 || [ $? -eq 1 ]

step "reviewtool check --fail-on never"
"$rt" check --fail-on never

step "reviewtool history --offline      (v15 and its review, fetched earlier, from the store)"
"$top/$venv/bin/python" "$top/fixtures/sample_history.py" "$work/series.mbox" "$work/v15.mbox"
"$rt" -q fetch "$work/v15.mbox" --offline >/dev/null
"$rt" history 20210802215408.804942-1-pasha.tatashin@example.org --offline
"$rt" -q fetch "$work/series.mbox" --offline >/dev/null  # v16 the latest again, for the steps below

step "reviewtool rebase --onto v5.14-rc4 --onto v5.15-rc1      (one pass, two targets: the matrix)"
"$rt" rebase --onto v5.14-rc4 --onto v5.15-rc1

step "reviewtool review series.mbox --onto v5.15-rc1 --offline --output-dir out --format markdown | head -25"
"$rt" -q review "$work/series.mbox" --onto v5.15-rc1 --offline --output-dir "$work/out" \
    --format markdown --fail-on never --from "Demo Reviewer <reviewer@example.org>" | head -25 || true
echo "..."
ls "$work/out"

step "git status of the repository afterwards (untouched)"
git status --short --branch
