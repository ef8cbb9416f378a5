#!/usr/bin/env bash
# Installs code-server 4.100.3 (= VS Code 1.100.3, the last release that runs on Node 20) from npm
# into .e2e/code-server, outside the project's node_modules, for the offline end-to-end tests.
# Needs the Debian packages libkrb5-dev (its kerberos module builds from source) and ripgrep.
# Usage: scripts/install-code-server.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.100.3
DEST=.e2e/code-server
ENTRY="$DEST/node_modules/code-server/out/node/entry.js"

if [ "${1:-}" != "--force" ] && [ -f "$ENTRY" ] &&
  grep -q "\"version\": \"$VERSION\"" "$DEST/node_modules/code-server/package.json" 2>/dev/null; then
  echo "code-server $VERSION already installed in $DEST"
  exit 0
fi

RG=$(command -v rg || true)
if [ -z "$RG" ]; then
  echo "ripgrep is missing: apt-get install ripgrep (code-server's @vscode/ripgrep would download it)" >&2
  exit 1
fi
if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "libkrb5-dev is missing: apt-get install libkrb5-dev (code-server's kerberos module builds from source)" >&2
  exit 1
fi

# @vscode/ripgrep's postinstall downloads rg unless its cache already holds the asset: seed the
# cache with Debian's rg, packed as the release tarball (the binary at the archive root).
TMP=${TMPDIR:-/tmp}
CACHE="$TMP/vscode-ripgrep-cache-1.15.11"
mkdir -p "$CACHE"
for asset in ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz; do
  [ -s "$CACHE/$asset" ] || tar -C "$(dirname "$RG")" -czf "$CACHE/$asset" "$(basename "$RG")"
done

rm -rf "$DEST"
mkdir -p "$DEST"
printf '{ "name": "klong-e2e-code-server", "private": true }\n' >"$DEST/package.json"

# unsafe_perm: its postinstall refuses root otherwise; yes: a nested `npx node-gyp`;
# nodedir: build native modules against the local Node headers instead of downloading them.
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
(cd "$DEST" && npm install --no-save --no-package-lock "code-server@$VERSION")

test -f "$ENTRY" || { echo "code-server install finished but $ENTRY is missing" >&2; exit 1; }
echo "code-server $VERSION installed in $DEST"
