#!/bin/sh
# The venv of the fastest peer that `make bench` runs beside Squall and aiohttp:
# granian + starlette at the versions of ../shared/bench/peers (RESULTS.md), in
# build/peers-venv. Idempotent and quiet when it is already there. Needs network
# access to the package index once; `make bench` goes on without the peer otherwise.
set -eu
VENV=${1:-build/peers-venv}
PYTHON=${PYTHON:-python3}
if "$VENV/bin/python" -c "import granian, starlette, uvloop" 2>/dev/null; then
    exit 0
fi
echo "ensure-peers: building $VENV (granian 2.8.7, starlette 1.10.0, uvloop 0.23.0)..." >&2
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q granian==2.8.7 starlette==1.10.0 uvloop==0.23.0
