#!/usr/bin/env bash
# Install the pinned oidc-provider (tests/oidc/package-lock.json) for the interop
# tests into tests/oidc/node_modules, only when that lock file changed since the last
# install. Under CI=true a missing node/npm or a failed install fails the run;
# elsewhere it says so and the interop tests skip.
set -euo pipefail
dir="$(cd "$(dirname "$0")/oidc" && pwd)"
stamp="$dir/node_modules/.flowlab-installed-lock"
fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "install-oidc: $1" >&2
    exit 1
  fi
  echo "install-oidc: $1; the interop tests will skip." >&2
  exit 0
}
command -v node >/dev/null 2>&1 || fail "node is not installed"
command -v npm >/dev/null 2>&1 || fail "npm is not installed"
if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
  exit 0
fi
echo "Installing oidc-provider for the interop tests..."
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
cp "$dir/package-lock.json" "$stamp"
