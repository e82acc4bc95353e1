#!/usr/bin/env bash
# End-to-end: the AWS CLI and boto3 against `castellan serve`.
#
# Creates a virtual environment with awscli, boto3 and pytest (from the Python package
# registry), builds `castellan`, starts `castellan serve` on a free loopback port with a fresh
# data directory, runs the AWS CLI script (cli.sh) and the pytest suite (test_boto3.py), and
# stops the server.
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
"$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/data" 2>"$work/server.log" &
server=$!
stop_server() {
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
cleanup() {
    stop_server
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    grep -q "serving IAM" "$work/server.log" 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; echo "castellan serve exited" >&2; exit 1; }
    sleep 0.1
done
grep -q "serving IAM" "$work/server.log" || { cat "$work/server.log"; echo "castellan serve did not start" >&2; exit 1; }

# Only the root credentials file and the endpoint: nothing from the user's own AWS setup.
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE
export AWS_SHARED_CREDENTIALS_FILE=$work/data/root-credentials
export AWS_CONFIG_FILE=$work/no-config
export AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
export CASTELLAN_ENDPOINT=http://127.0.0.1:$port
export PATH=$venv/bin:$PATH

status=0
echo "== AWS CLI script"
bash "$here/cli.sh" || status=1
echo "== pytest + boto3"
(cd "$here" && pytest -q -p no:cacheprovider test_boto3.py) || status=1
if [ "$status" -ne 0 ]; then
    echo "== server log (last 40 lines)"
    tail -n 40 "$work/server.log"
fi
exit "$status"
