#!/usr/bin/env sh
# Browser tests drive Debian's Chromium (Playwright cannot download its own browser offline): install it if missing.
set -eu
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
echo "Installing Debian's chromium for the browser tests ..."
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "error: $CHROMIUM is missing and this user cannot install it; install the 'chromium' package or set CHROMIUM." >&2
  exit 1
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "error: chromium installed but $CHROMIUM is still missing; set CHROMIUM." >&2; exit 1; }
