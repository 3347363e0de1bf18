#!/usr/bin/env bash
# Extract checkpatch.pl and the files it reads from Debian's linux-source-6.12 into DEST
# (default: ~/.cache/reviewtool/checkpatch), for the checkpatch tests and benchmark.
# Nothing from the kernel is committed to this repository. Idempotent: a filled DEST is
# reused. Prints DEST/scripts/checkpatch.pl on success.
set -euo pipefail
dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/reviewtool/checkpatch}
pkg=linux-source-6.12
members=(
  scripts/checkpatch.pl
  scripts/spelling.txt
  scripts/const_structs.checkpatch
  Documentation/dev-tools/checkpatch.rst
)

if [ -x "$dest/scripts/checkpatch.pl" ] && [ -f "$dest/scripts/spelling.txt" ]; then
  echo "$dest/scripts/checkpatch.pl"
  exit 0
fi

tarball=$(ls /usr/src/$pkg.tar.xz 2>/dev/null || true)
if [ -z "$tarball" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "get-checkpatch: installing $pkg with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    tarball=/usr/src/$pkg.tar.xz
  else
    echo "get-checkpatch: /usr/src/$pkg.tar.xz is missing: install the Debian package $pkg (as root)" >&2
    exit 1
  fi
fi

top=$pkg  # the tarball's top-level directory
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d "$(dirname "$dest")/.checkpatch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" --strip-components=1 "${members[@]/#/$top/}"
chmod +x "$tmp/scripts/checkpatch.pl"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest/scripts/checkpatch.pl"
