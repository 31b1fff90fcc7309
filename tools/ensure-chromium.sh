#!/bin/sh
# Make sure headless Chromium is available for the browser test (tests/e2e).
# Idempotent and silent when /usr/bin/chromium is already there.
# Debian, run as root: installs the distribution's chromium package.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-chromium: $CHROMIUM is missing; run this script as root to install it" >&2
    exit 1
fi

echo "ensure-chromium: installing chromium (apt-get)..." >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

if [ ! -x "$CHROMIUM" ]; then
    echo "ensure-chromium: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)" >&2
