#!/usr/bin/env bash
# The API fuzzer: schemathesis (pinned, in its own environment .ci/fuzz-venv) reads the OpenAPI document the local
# product serves at /openapi.json, generates requests from it and runs every check (`--checks all`: no server
# errors, only documented status codes, schema-valid requests accepted, schema-invalid ones rejected, responses
# matching their schemas, auth enforced, undocumented methods answered 405). Any failure fails the script.
#
# Runnable alone (`.ci/fuzz.sh`); `.ci/run` calls it after the Rust tests, which build the local runner. Alone it
# builds the runner only when it is missing: after a change, `cargo build -p local` first. FUZZ_SEED picks another
# generation seed (the default keeps CI's inputs the same from run to run); FUZZ_MAX_EXAMPLES bounds the test cases
# per operation and phase (the default run takes under a minute).
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
if ! .ci/fuzz-venv/bin/schemathesis --version 2>/dev/null | grep -qF "$version"; then
    python3 -m venv .ci/fuzz-venv
    .ci/fuzz-venv/bin/pip install -q "schemathesis==$version"
fi

bin="${CARGO_TARGET_DIR:-target}/debug/scheduled-investigations"
[[ -x $bin ]] || cargo build -p local --locked

# The product as a user starts it, on a free loopback port, with a fresh DATA_DIR and a token of our own.
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="fuzz-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
base="http://127.0.0.1:$port"
API_TOKEN=$token DATA_DIR=$data LISTEN_ADDR=127.0.0.1:$port SANDBOX_RUN_SECS=1 RUST_LOG=warn \
    "$bin" >"$data/server.log" 2>&1 &
server=$!
stop() {
    kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$data"
}
trap stop EXIT
for _ in $(seq 100); do
    curl -sf "$base/healthz" >/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$data/server.log"; echo "the local runner did not start" >&2; exit 1; }
    sleep 0.1
done
curl -sf "$base/healthz" >/dev/null || { cat "$data/server.log"; echo "the local runner did not answer" >&2; exit 1; }

started=$(date +%s)
status=0
.ci/fuzz-venv/bin/schemathesis --config-file .ci/schemathesis.toml run "$base/openapi.json" \
    --checks all \
    -H "Authorization: Bearer $token" \
    --seed "${FUZZ_SEED:-20261201}" \
    --max-examples "${FUZZ_MAX_EXAMPLES:-200}" \
    --workers 2 \
    --generation-database none \
    --no-color || status=$?
echo "fuzz: $(($(date +%s) - started)) s against $base (seed ${FUZZ_SEED:-20261201}), exit status $status"
if [[ $status -ne 0 ]]; then
    echo "--- local runner log (last 50 lines)"
    tail -50 "$data/server.log"
fi
exit "$status"
