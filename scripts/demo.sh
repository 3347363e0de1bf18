#!/usr/bin/env bash
# The main job on the bundled sample: fetch the sample series (offline, from fixtures/),
# into a throw-away store, and show what reviewtool makes of it.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."
rt="$PWD/$venv/bin/reviewtool"
work=$(mktemp -d "${TMPDIR:-/tmp}/reviewtool-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export REVIEWTOOL_STORE="$work/store"

echo "== reviewtool fetch fixtures/mail --offline"
"$rt" fetch fixtures/mail --offline
echo
echo "== reviewtool fetch fixtures/mail --offline -v 1   (the older revision in the same thread)"
"$rt" -q fetch fixtures/mail --offline -v 1
echo
echo "== reviewtool list"
"$rt" list
