#!/usr/bin/env bash
# End-to-end: the AWS CLI and boto3 against `castellan serve`.
#
# Creates a virtual environment with awscli, boto3 and pytest (from the Python package
# registry), builds `castellan`, starts `castellan serve --allow-clock-control` on a free
# loopback port with a fresh data directory, runs the AWS CLI script (cli.sh), the pytest suite
# (test_boto3.py), the test-endpoint suite (test_test_endpoint.py, which starts its own
# `castellan serve --accounts 2 --test-reset --in-memory`), the first half of the restart check
# (restart.sh before) and the ExpiredToken case (cli.sh expired-token, which moves the server's
# clock); then stops the server, starts it again on the same data directory without clock
# control, and runs restart.sh after.
#
# Environment: CASTELLAN_BIN (a built `castellan`; default: build one with cargo),
# CASTELLAN_E2E_VENV (where the virtual environment goes; default: target/e2e-venv),
# CARGO_TARGET_DIR (as usual for cargo).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
venv=${CASTELLAN_E2E_VENV:-$target/e2e-venv}

if [ ! -x "$venv/bin/aws" ] || [ ! -x "$venv/bin/pytest" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check awscli boto3 pytest
fi

bin=${CASTELLAN_BIN:-}
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --quiet -p castellan-cli)
    bin=$target/debug/castellan
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=
# start_server LOG [FLAGS...]: starts `castellan serve` on the data directory and waits until it
# serves.
start_server() {
    local log=$1
    shift
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" "$@" 2>"$log" &
    server=$!
    for _ in $(seq 1 100); do
        grep -q "serving IAM" "$log" 2>/dev/null && return 0
        kill -0 "$server" 2>/dev/null || { cat "$log"; echo "castellan serve exited" >&2; exit 1; }
        sleep 0.1
    done
    cat "$log"
    echo "castellan serve did not start" >&2
    exit 1
}
stop_server() {
    if [ -n "$server" ]; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=
    fi
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

# Clock control on: the ExpiredToken case moves the server's clock forward.
start_server "$work/server.log" --allow-clock-control

# Only the root credentials file and the endpoint: nothing from the user's own AWS setup.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export AWS_SHARED_CREDENTIALS_FILE=$work/data/root-credentials
export AWS_CONFIG_FILE=$work/no-config
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export CASTELLAN_ENDPOINT=http://127.0.0.1:$port
export PATH=$venv/bin:$PATH

status=0
passed=0
failed=0
# Runs one phase and counts it.
phase() {
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
}
echo "== AWS CLI script"
phase bash "$here/cli.sh"
echo "== pytest + boto3"
phase bash -c "cd '$here' && pytest -q -p no:cacheprovider test_boto3.py"
echo "== pytest + boto3: a test endpoint (--accounts 2 --test-reset --in-memory)"
phase bash -c "cd '$here' && CASTELLAN_BIN='$(realpath "$bin")' pytest -q -p no:cacheprovider test_test_endpoint.py"
echo "== restart durability (before)"
phase bash "$here/restart.sh" before "$work/restart-state"
# Last on this server: it moves the clock forward, which TOTP codes computed now would not match.
echo "== ExpiredToken (clock control)"
phase bash "$here/cli.sh" expired-token
if [ "$status" -ne 0 ]; then
    echo "== server log (last 40 lines)"
    tail -n 40 "$work/server.log"
fi

echo "== restart on the same data directory (without clock control)"
stop_server
grep -q "castellan: stopped" "$work/server.log" || { echo "FAIL the server did not stop cleanly"; failed=$((failed + 1)); status=1; }
start_server "$work/server2.log"
if grep -q "bootstrapped" "$work/server2.log"; then
    echo "FAIL the restart bootstrapped a new account"
    failed=$((failed + 1))
    status=1
fi
phase bash "$here/restart.sh" after "$work/restart-state"
# `sed -n 1p` reads to the end: `head -n 1` could close the pipe before the second line is
# written, and the broken pipe failed the whole script (pipefail) at random.
clock=$(python3 "$here/castellan_call.py" /_castellan/clock '{"advanceSeconds": 1}' | sed -n 1p)
if [ "$clock" == "404" ]; then
    echo "ok   /_castellan/clock answers 404 without --allow-clock-control"
    passed=$((passed + 1))
else
    echo "FAIL /_castellan/clock without --allow-clock-control: $clock"
    failed=$((failed + 1))
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "== server log after the restart (last 40 lines)"
    tail -n 40 "$work/server2.log"
fi
# The closing line: the end-to-end phases (each phase's own counts are above).
echo "e2e phases: $passed passed, $failed failed"
exit "$status"
