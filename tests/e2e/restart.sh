#!/usr/bin/env bash
# Restart durability, in two phases around a restart of `castellan serve` on the same data
# directory (run.sh stops and starts the server between them):
#   restart.sh before STATE   creates a user with an access key, a managed policy attached to it,
#                             and a session token (3600 s); writes what it made to STATE
#   restart.sh after STATE    checks with the AWS CLI that all of it still works
set -uo pipefail

: "${CASTELLAN_ENDPOINT:?run this through tests/e2e/run.sh}"
phase=$1
state=$2
failures=0

a() {
    aws --endpoint-url "$CASTELLAN_ENDPOINT" --output json "$@"
}

expect() {
    if [ "$2" == "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1: got [$2], expected [$3]"
        failures=$((failures + 1))
    fi
}

json() {
    python3 -c 'import json, sys; d = json.load(sys.stdin); r = eval(sys.argv[1]); print(r if not isinstance(r, bool) else str(r).lower())' "$1"
}

case "$phase" in
before)
    a iam create-user --user-name durable >/dev/null
    doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","iam:ListAttachedUserPolicies"],"Resource":"*"}]}'
    policy=$(a iam create-policy --policy-name durable-read --policy-document "$doc" | json 'd["Policy"]["Arn"]')
    a iam attach-user-policy --user-name durable --policy-arn "$policy" >/dev/null
    key=$(a iam create-access-key --user-name durable)
    key_id=$(json 'd["AccessKey"]["AccessKeyId"]' <<<"$key")
    secret=$(json 'd["AccessKey"]["SecretAccessKey"]' <<<"$key")
    session=$(AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret a sts get-session-token --duration-seconds 3600)
    expect "the session works before the restart" \
        "$(AWS_ACCESS_KEY_ID=$(json 'd["Credentials"]["AccessKeyId"]' <<<"$session") \
           AWS_SECRET_ACCESS_KEY=$(json 'd["Credentials"]["SecretAccessKey"]' <<<"$session") \
           AWS_SESSION_TOKEN=$(json 'd["Credentials"]["SessionToken"]' <<<"$session") \
           a sts get-caller-identity | json 'd["Arn"].endswith(":user/durable")')" "true"
    {
        echo "policy=$policy"
        echo "key_id=$key_id"
        echo "secret=$secret"
        echo "session_id=$(json 'd["Credentials"]["AccessKeyId"]' <<<"$session")"
        echo "session_secret=$(json 'd["Credentials"]["SecretAccessKey"]' <<<"$session")"
        echo "session_token=$(json 'd["Credentials"]["SessionToken"]' <<<"$session")"
    } >"$state"
    ;;
after)
    # shellcheck disable=SC1090
    . "$state"
    # First, before the key signs anything on this server: its last use before the restart was
    # written at shutdown (the server flushes last-used data every 60 s and when it stops).
    expect "the access key's last use survives the restart" \
        "$(a iam get-access-key-last-used --access-key-id "$key_id" | json '"LastUsedDate" in d["AccessKeyLastUsed"]')" "true"
    expect "the user survives the restart" "$(a iam get-user --user-name durable | json 'd["User"]["UserName"]')" "durable"
    expect "the managed policy survives the restart" \
        "$(a iam get-policy --policy-arn "$policy" | json 'd["Policy"]["AttachmentCount"]')" "1"
    expect "the access key signs after the restart" \
        "$(AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret a sts get-caller-identity | json 'd["Arn"].endswith(":user/durable")')" "true"
    expect "the attached policy still allows after the restart" \
        "$(AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret a iam list-attached-user-policies --user-name durable | json 'd["AttachedPolicies"][0]["PolicyArn"]')" "$policy"
    expect "the session token issued before the restart still works" \
        "$(AWS_ACCESS_KEY_ID=$session_id AWS_SECRET_ACCESS_KEY=$session_secret AWS_SESSION_TOKEN=$session_token \
           a sts get-caller-identity | json 'd["Arn"].endswith(":user/durable")')" "true"
    expect "the session's permissions still apply after the restart" \
        "$(AWS_ACCESS_KEY_ID=$session_id AWS_SECRET_ACCESS_KEY=$session_secret AWS_SESSION_TOKEN=$session_token \
           a iam get-user --user-name durable | json 'd["User"]["UserName"]')" "durable"
    ;;
*)
    echo "usage: restart.sh before|after STATE" >&2
    exit 2
    ;;
esac
echo "$failures failures"
[ "$failures" -eq 0 ]
