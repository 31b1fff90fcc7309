#!/bin/sh
# Make sure redis-server is available for the session tests (tests/sessions), which
# start their own on a free port. Idempotent and silent when it is already there.
# Debian, run as root: installs the distribution's redis-server package. The package's
# own service is not needed (the tests start redis-server themselves), so it is not
# started here; where apt starts it anyway it listens on 6379 only, which no test uses.
set -eu

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "ensure-redis: redis-server is missing; run this script as root to install it" >&2
    exit 1
fi

echo "ensure-redis: installing redis-server (apt-get)..." >&2
apt-get update -qq
# policy-rc.d-less containers: RUNLEVEL=1 keeps invoke-rc.d from starting the service
RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    redis-server >/dev/null

if ! command -v redis-server >/dev/null 2>&1; then
    echo "ensure-redis: apt-get finished but redis-server is still missing" >&2
    exit 1
fi
echo "ensure-redis: $(redis-server --version 2>/dev/null || echo redis-server installed)" >&2
