#!/usr/bin/env bash
# Make sure a Chromium exists for the browser tests.
# Order: one already installed; Debian's `chromium` package when we are root
# with apt; otherwise Playwright's own download.
set -euo pipefail
py=${1:-python3}
for exe in "${FLOWLAB_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome; do
  if [ -n "$exe" ] && [ -x "$exe" ]; then exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium package for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "Downloading Playwright's Chromium for the browser tests..."
"$py" -m playwright install chromium
