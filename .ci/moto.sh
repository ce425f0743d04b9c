#!/usr/bin/env bash
# Starts moto (the AWS emulator the AWS adapters are tested against) on loopback, or stops it.
#   .ci/moto.sh         install moto into .ci/venv if missing, start it, wait until it answers
#   .ci/moto.sh stop    stop the moto this script started
# MOTO_PORT (default 5000) picks the port; the tests read AWS_ENDPOINT_URL (default http://127.0.0.1:5000).
set -euo pipefail

cd "$(dirname "$0")/.."
port="${MOTO_PORT:-5000}"
pidfile=.ci/moto.pid
url="http://127.0.0.1:${port}/moto-api/"

if [[ "${1:-start}" == "stop" ]]; then
    if [[ -f "$pidfile" ]]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        rm -f "$pidfile"
    fi
    exit 0
fi

if curl -sf "$url" >/dev/null 2>&1; then
    echo "moto already answers on port ${port}"
    exit 0
fi

if [[ ! -x .ci/venv/bin/moto_server ]]; then
    python3 -m venv .ci/venv
    # Pinned: the tests rely on this release's behaviour (see shared/TOOLING.md).
    .ci/venv/bin/pip install -q 'moto[server]==5.2.5'
fi

# One request at a time: see .ci/moto_serial.py for why.
.ci/venv/bin/python .ci/moto_serial.py 127.0.0.1 "$port" >.ci/moto.log 2>&1 &
echo $! >"$pidfile"

for _ in $(seq 1 100); do
    if curl -sf "$url" >/dev/null 2>&1; then
        echo "moto answers on port ${port} (pid $(cat "$pidfile"))"
        exit 0
    fi
    sleep 0.1
done
echo "moto did not answer on port ${port} within 10 s; see .ci/moto.log" >&2
exit 1
