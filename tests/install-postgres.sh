#!/usr/bin/env bash
# Make sure a PostgreSQL server's binaries exist for the storage tests
# (tests/pg_harness.py starts a throwaway server with them). Order: one already
# installed; Debian's `postgresql` package when we are root with apt. Elsewhere the
# harness says what is missing (and fails under CI=true).
set -euo pipefail
for initdb in /usr/lib/postgresql/*/bin/initdb; do
  if [ -x "$initdb" ]; then exit 0; fi
done
if command -v initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's postgresql package for the storage tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "No PostgreSQL server found: the PostgreSQL half of the storage tests will say so."
