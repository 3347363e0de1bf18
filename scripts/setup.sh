#!/usr/bin/env bash
# Create the virtualenv and install reviewtool with its test tools, plus the Debian
# packages the tests need (public-inbox for the loopback server). Idempotent and quick
# when everything is already there.
set -euo pipefail
venv=${1:-.venv}
cd "$(dirname "$0")/.."

need_apt=()
command -v public-inbox-httpd >/dev/null 2>&1 || need_apt+=(public-inbox)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v perl >/dev/null 2>&1 || need_apt+=(perl)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages first (as root): ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# editable_mode=compat: a plain path in a .pth file. The default editable install hooks a
# finder into every start of Python, which costs the tool 15-20 ms a command.
stamp="$venv/.reviewtool-installed-compat"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check -e '.[dev]' --config-settings editable_mode=compat
  touch "$stamp"
fi
"$venv/bin/python" -m compileall -q reviewtool  # .pyc files even where PYTHONDONTWRITEBYTECODE is set
# checkpatch.pl for the checkpatch tests, extracted from Debian's linux-source-6.12 (cached)
bash scripts/get-checkpatch.sh >/dev/null
