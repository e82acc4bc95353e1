#!/usr/bin/env bash
# The AWS CLI against `castellan serve` (started by run.sh, which sets CASTELLAN_ENDPOINT and
# AWS_SHARED_CREDENTIALS_FILE to the root user's key): every command's output is checked.
set -uo pipefail

: "${CASTELLAN_ENDPOINT:?run this through tests/e2e/run.sh}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# aws with the endpoint; counts the commands run (in a file: most run in subshells).
a() {
    echo x >>"$tmp/commands"
    aws --endpoint-url "$CASTELLAN_ENDPOINT" --output json "$@"
}

# expect DESCRIPTION ACTUAL EXPECTED
expect() {
    if [ "$2" == "$3" ]; then
        echo "ok   $1"
    else
        echo "FAIL $1: got [$2], expected [$3]"
        failures=$((failures + 1))
    fi
}

# expect_error CODE DESCRIPTION aws-args...: the command fails with error code CODE.
expect_error() {
    local code=$1 description=$2
    shift 2
    local out
    out=$(a "$@" 2>&1)
    local rc=$?
    if [ $rc -ne 0 ] && grep -q "($code)" <<<"$out"; then
        echo "ok   $description -> $code"
    else
        echo "FAIL $description: expected $code, got rc=$rc: $out"
        failures=$((failures + 1))
    fi
}

# json EXPR: evaluates a Python expression over the JSON on stdin (as `d`).
json() {
    python3 -c 'import json, sys; d = json.load(sys.stdin); r = eval(sys.argv[1]); print(r if not isinstance(r, bool) else str(r).lower())' "$1"
}

# totp BASE32 OFFSET: the TOTP code of a seed, OFFSET steps from now.
totp() {
    python3 - "$1" "$2" <<'PY'
import base64, hashlib, hmac, struct, sys, time
seed = sys.argv[1].strip()
key = base64.b32decode(seed + "=" * (-len(seed) % 8))
counter = int(time.time()) // 30 + int(sys.argv[2])
digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
offset = digest[-1] & 15
print("%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}

trust_account() {
    printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":["sts:AssumeRole","sts:TagSession"]}]}' "$1"
}

# castellan PATH JSON: a signed POST to one of Castellan's own endpoints; prints the status,
# then the JSON answer.
castellan() {
    python3 "$(dirname "$0")/castellan_call.py" "$1" "$2"
}

# Phase `expired-token` (run.sh runs it after the suites: moving the clock forward would break
# the TOTP codes they compute): a session of 900 s, the clock moved 901 s, ExpiredToken.
if [ "${1:-}" == "expired-token" ]; then
    creds=$(a sts get-session-token --duration-seconds 900)
    export AWS_ACCESS_KEY_ID=$(json 'd["Credentials"]["AccessKeyId"]' <<<"$creds")
    export AWS_SECRET_ACCESS_KEY=$(json 'd["Credentials"]["SecretAccessKey"]' <<<"$creds")
    export AWS_SESSION_TOKEN=$(json 'd["Credentials"]["SessionToken"]' <<<"$creds")
    expect "the session works before the clock moves" "$(a sts get-caller-identity | json 'd["Arn"][-5:]')" ":root"
    # Signed by the root user (from the shared credentials file), not the session.
    moved=$(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
        castellan /_castellan/clock '{"advanceSeconds": 901}')
    expect "the clock control moves the clock 901 s" "$(tail -n 1 <<<"$moved" | json 'd.get("offsetSeconds", d)')" "901"
    expect_error ExpiredToken "the 900 s session 901 s later" sts get-caller-identity
    expect "the clock control refuses session credentials" "$(castellan /_castellan/clock '{"advanceSeconds": 1}' | head -n 1)" "403"
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    echo "$failures failures"
    [ "$failures" -eq 0 ]
    exit
fi

# ---- who am I ----
account=$(a sts get-caller-identity | json 'd["Account"]')
expect "get-caller-identity as root" "$(a sts get-caller-identity | json 'd["Arn"]')" "arn:aws:iam::$account:root"
expect "get-user without a name is the root user" "$(a iam get-user | json 'd["User"]["Arn"]')" "arn:aws:iam::$account:root"

# ---- users ----
expect "create-user" "$(a iam create-user --user-name alice --tags Key=team,Value=red | json 'd["User"]["Arn"]')" \
    "arn:aws:iam::$account:user/alice"
expect_error EntityAlreadyExists "create-user twice" iam create-user --user-name alice
expect_error NoSuchEntity "get-user of nobody" iam get-user --user-name nobody
expect "get-user" "$(a iam get-user --user-name alice | json 'd["User"]["Tags"][0]["Value"]')" "red"
expect "list-users" "$(a iam list-users | json '[u["UserName"] for u in d["Users"]]')" "['alice']"
a iam update-user --user-name alice --new-path /eng/ >/dev/null
expect "update-user moves the user" "$(a iam get-user --user-name alice | json 'd["User"]["Path"]')" "/eng/"
a iam tag-user --user-name alice --tags Key=level,Value=3 >/dev/null
a iam untag-user --user-name alice --tag-keys team >/dev/null
expect "tag-user and untag-user" "$(a iam get-user --user-name alice | json '[t["Key"] for t in d["User"]["Tags"]]')" "['level']"

# ---- groups ----
expect "create-group" "$(a iam create-group --group-name devs | json 'd["Group"]["GroupName"]')" "devs"
a iam add-user-to-group --group-name devs --user-name alice >/dev/null
expect "get-group lists members" "$(a iam get-group --group-name devs | json 'd["Users"][0]["UserName"]')" "alice"
expect "list-groups-for-user" "$(a iam list-groups-for-user --user-name alice | json 'd["Groups"][0]["GroupName"]')" "devs"

# ---- managed policies and versions ----
read_doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
policy_arn=$(a iam create-policy --policy-name s3-read --policy-document "$read_doc" | json 'd["Policy"]["Arn"]')
expect "create-policy" "$policy_arn" "arn:aws:iam::$account:policy/s3-read"
expect_error MalformedPolicyDocument "create-policy with a broken document" \
    iam create-policy --policy-name broken --policy-document '{"Statement":[{"Effect":"Maybe"}]}'
v2_doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}'
expect "create-policy-version" \
    "$(a iam create-policy-version --policy-arn "$policy_arn" --policy-document "$v2_doc" --set-as-default | json 'd["PolicyVersion"]["VersionId"]')" "v2"
expect "get-policy-version decodes the document" \
    "$(a iam get-policy-version --policy-arn "$policy_arn" --version-id v2 | json 'd["PolicyVersion"]["Document"]["Statement"][0]["Action"][1]')" "s3:ListBucket"
expect "get-policy" "$(a iam get-policy --policy-arn "$policy_arn" | json 'd["Policy"]["DefaultVersionId"]')" "v2"
for _ in 3 4 5; do a iam create-policy-version --policy-arn "$policy_arn" --policy-document "$read_doc" >/dev/null; done
expect "list-policy-versions" "$(a iam list-policy-versions --policy-arn "$policy_arn" | json 'len(d["Versions"])')" "5"
expect_error LimitExceeded "a sixth policy version" \
    iam create-policy-version --policy-arn "$policy_arn" --policy-document "$read_doc"
a iam set-default-policy-version --policy-arn "$policy_arn" --version-id v1 >/dev/null
a iam delete-policy-version --policy-arn "$policy_arn" --version-id v5 >/dev/null
expect "set-default and delete-policy-version" \
    "$(a iam list-policy-versions --policy-arn "$policy_arn" | json '[v["VersionId"] for v in d["Versions"] if v["IsDefaultVersion"]] + [len(d["Versions"])]')" "['v1', 4]"
a iam attach-group-policy --group-name devs --policy-arn "$policy_arn" >/dev/null
expect "list-attached-group-policies" \
    "$(a iam list-attached-group-policies --group-name devs | json 'd["AttachedPolicies"][0]["PolicyName"]')" "s3-read"
expect_error DeleteConflict "delete-policy while attached" iam delete-policy --policy-arn "$policy_arn"
expect "list-policies --scope Local" "$(a iam list-policies --scope Local | json '[p["PolicyName"] for p in d["Policies"]]')" "['s3-read']"

# ---- inline policies ----
a iam put-user-policy --user-name alice --policy-name self --policy-document "$read_doc" >/dev/null
expect "get-user-policy" "$(a iam get-user-policy --user-name alice --policy-name self | json 'd["PolicyDocument"]["Statement"][0]["Action"]')" "s3:GetObject"
expect "list-user-policies" "$(a iam list-user-policies --user-name alice | json 'd["PolicyNames"]')" "['self']"

# ---- the policy simulator ----
expect "simulate-principal-policy" \
    "$(a iam simulate-principal-policy --policy-source-arn "arn:aws:iam::$account:user/eng/alice" \
        --action-names s3:GetObject s3:PutObject | json '[r["EvalDecision"] for r in d["EvaluationResults"]]')" \
    "['allowed', 'implicitDeny']"
deny_doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}'
expect "simulate-custom-policy" \
    "$(a iam simulate-custom-policy --policy-input-list "$deny_doc" --action-names s3:GetObject s3:DeleteObject \
        | json '[r["EvalDecision"] for r in d["EvaluationResults"]]')" "['allowed', 'explicitDeny']"
expect "list-user-tags" "$(a iam list-user-tags --user-name alice | json '[t["Key"] for t in d["Tags"]]')" "['level']"

# ---- access keys and AccessDenied ----
alice_key=$(a iam create-access-key --user-name alice)
alice_id=$(json 'd["AccessKey"]["AccessKeyId"]' <<<"$alice_key")
alice_secret=$(json 'd["AccessKey"]["SecretAccessKey"]' <<<"$alice_key")
expect "list-access-keys" "$(a iam list-access-keys --user-name alice | json 'd["AccessKeyMetadata"][0]["AccessKeyId"]')" "$alice_id"
expect "get-caller-identity as alice" \
    "$(AWS_ACCESS_KEY_ID=$alice_id AWS_SECRET_ACCESS_KEY=$alice_secret a sts get-caller-identity | json 'd["Arn"]')" \
    "arn:aws:iam::$account:user/eng/alice"
AWS_ACCESS_KEY_ID=$alice_id AWS_SECRET_ACCESS_KEY=$alice_secret \
    expect_error AccessDenied "alice may not list users" iam list-users
a iam update-access-key --user-name alice --access-key-id "$alice_id" --status Inactive >/dev/null
expect "update-access-key" "$(a iam list-access-keys --user-name alice | json 'd["AccessKeyMetadata"][0]["Status"]')" "Inactive"
AWS_ACCESS_KEY_ID=$alice_id AWS_SECRET_ACCESS_KEY=$alice_secret \
    expect_error InvalidClientTokenId "an inactive key" sts get-caller-identity

# ---- roles, assume-role with session tags ----
a iam create-user --user-name admin >/dev/null
a iam attach-user-policy --user-name admin --policy-arn arn:aws:iam::aws:policy/AdministratorAccess >/dev/null
admin_key=$(a iam create-access-key --user-name admin)
admin_id=$(json 'd["AccessKey"]["AccessKeyId"]' <<<"$admin_key")
admin_secret=$(json 'd["AccessKey"]["SecretAccessKey"]' <<<"$admin_key")
role_arn=$(a iam create-role --role-name ops --assume-role-policy-document "$(trust_account "$account")" | json 'd["Role"]["Arn"]')
expect "create-role" "$role_arn" "arn:aws:iam::$account:role/ops"
a iam update-role --role-name ops --max-session-duration 7200 >/dev/null
expect "update-role" "$(a iam get-role --role-name ops | json 'd["Role"]["MaxSessionDuration"]')" "7200"
expect "get-role decodes the trust policy" \
    "$(a iam get-role --role-name ops | json 'd["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"]')" \
    "arn:aws:iam::$account:root"
a iam put-role-policy --role-name ops --policy-name read --policy-document "$read_doc" >/dev/null
expect "list-role-policies" "$(a iam list-role-policies --role-name ops | json 'd["PolicyNames"]')" "['read']"
session=$(AWS_ACCESS_KEY_ID=$admin_id AWS_SECRET_ACCESS_KEY=$admin_secret \
    a sts assume-role --role-arn "$role_arn" --role-session-name s1 --tags Key=team,Value=red --transitive-tag-keys team)
expect "assume-role with session tags" "$(json 'd["AssumedRoleUser"]["Arn"]' <<<"$session")" \
    "arn:aws:sts::$account:assumed-role/ops/s1"
expect "get-caller-identity with temporary credentials" \
    "$(AWS_ACCESS_KEY_ID=$(json 'd["Credentials"]["AccessKeyId"]' <<<"$session") \
       AWS_SECRET_ACCESS_KEY=$(json 'd["Credentials"]["SecretAccessKey"]' <<<"$session") \
       AWS_SESSION_TOKEN=$(json 'd["Credentials"]["SessionToken"]' <<<"$session") \
       a sts get-caller-identity | json 'd["Arn"]')" "arn:aws:sts::$account:assumed-role/ops/s1"
AWS_ACCESS_KEY_ID=$(json 'd["Credentials"]["AccessKeyId"]' <<<"$session") \
AWS_SECRET_ACCESS_KEY=$(json 'd["Credentials"]["SecretAccessKey"]' <<<"$session") \
AWS_SESSION_TOKEN=$(json 'd["Credentials"]["SessionToken"]' <<<"$session") \
    expect_error AccessDenied "the role session may not create users" iam create-user --user-name nope
AWS_ACCESS_KEY_ID=$(json 'd["Credentials"]["AccessKeyId"]' <<<"$session") \
AWS_SECRET_ACCESS_KEY=$(json 'd["Credentials"]["SecretAccessKey"]' <<<"$session") \
AWS_SESSION_TOKEN=garbage${RANDOM} \
    expect_error InvalidClientTokenId "a forged session token" sts get-caller-identity
expect_error DeleteConflict "delete-role with policies" iam delete-role --role-name ops

# ---- MFA ----
serial=$(a iam create-virtual-mfa-device --virtual-mfa-device-name alice-phone \
    --outfile "$tmp/seed" --bootstrap-method Base32StringSeed | json 'd["VirtualMFADevice"]["SerialNumber"]')
expect "create-virtual-mfa-device" "$serial" "arn:aws:iam::$account:mfa/alice-phone"
seed=$(cat "$tmp/seed")
a iam enable-mfa-device --user-name alice --serial-number "$serial" \
    --authentication-code1 "$(totp "$seed" -1)" --authentication-code2 "$(totp "$seed" 0)" >/dev/null
expect "enable-mfa-device with TOTP codes" "$(a iam list-mfa-devices --user-name alice | json 'd["MFADevices"][0]["SerialNumber"]')" "$serial"
a iam deactivate-mfa-device --user-name alice --serial-number "$serial" >/dev/null
expect "deactivate-mfa-device" "$(a iam list-mfa-devices --user-name alice | json 'len(d["MFADevices"])')" "0"
a iam delete-virtual-mfa-device --serial-number "$serial" >/dev/null
expect_error NoSuchEntity "delete-virtual-mfa-device twice" iam delete-virtual-mfa-device --serial-number "$serial"

# ---- password policy and login profiles ----
a iam update-account-password-policy --minimum-password-length 12 --require-numbers >/dev/null
expect "get-account-password-policy" "$(a iam get-account-password-policy | json 'd["PasswordPolicy"]["MinimumPasswordLength"]')" "12"
expect_error PasswordPolicyViolation "a password the policy refuses" \
    iam create-login-profile --user-name alice --password short1
expect "create-login-profile" \
    "$(a iam create-login-profile --user-name alice --password 'correct-horse-42' | json 'd["LoginProfile"]["UserName"]')" "alice"
expect "get-login-profile" "$(a iam get-login-profile --user-name alice | json 'd["LoginProfile"]["PasswordResetRequired"]')" "false"
a iam delete-account-password-policy >/dev/null
expect_error NoSuchEntity "get-account-password-policy after delete" iam get-account-password-policy

# ---- account alias and instance profiles ----
a iam create-account-alias --account-alias castellan-e2e >/dev/null
expect "list-account-aliases" "$(a iam list-account-aliases | json 'd["AccountAliases"]')" "['castellan-e2e']"
a iam create-instance-profile --instance-profile-name web >/dev/null
a iam add-role-to-instance-profile --instance-profile-name web --role-name ops >/dev/null
expect "get-instance-profile" "$(a iam get-instance-profile --instance-profile-name web | json 'd["InstanceProfile"]["Roles"][0]["RoleName"]')" "ops"

# ---- organizations, and an SCP that denies ----
expect "create-organization" "$(a organizations create-organization --feature-set ALL | json 'd["Organization"]["MasterAccountId"]')" "$account"
root_id=$(a organizations list-roots | json 'd["Roots"][0]["Id"]')
expect "list-roots" "${root_id:0:2}" "r-"
member=$(a organizations create-account --account-name dev --email dev@example.com | json 'd["CreateAccountStatus"]["AccountId"]')
expect "list-accounts" "$(a organizations list-accounts | json 'len(d["Accounts"])')" "2"
ou=$(a organizations create-organizational-unit --parent-id "$root_id" --name sandbox | json 'd["OrganizationalUnit"]["Id"]')
a organizations move-account --account-id "$member" --source-parent-id "$root_id" --destination-parent-id "$ou" >/dev/null
scp='{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}'
scp_id=$(a organizations create-policy --name no-users --description "no new users" --type SERVICE_CONTROL_POLICY \
    --content "$scp" | json 'd["Policy"]["PolicySummary"]["Id"]')
a organizations attach-policy --policy-id "$scp_id" --target-id "$ou" >/dev/null
expect "list-policies SCP" "$(a organizations list-policies --filter SERVICE_CONTROL_POLICY | json 'sorted(p["Name"] for p in d["Policies"])')" \
    "['FullAWSAccess', 'no-users']"
member_session=$(AWS_ACCESS_KEY_ID=$admin_id AWS_SECRET_ACCESS_KEY=$admin_secret \
    a sts assume-role --role-arn "arn:aws:iam::$member:role/OrganizationAccountAccessRole" --role-session-name ops)
expect "assume OrganizationAccountAccessRole in the member account" \
    "$(json 'd["AssumedRoleUser"]["Arn"]' <<<"$member_session")" "arn:aws:sts::$member:assumed-role/OrganizationAccountAccessRole/ops"
AWS_ACCESS_KEY_ID=$(json 'd["Credentials"]["AccessKeyId"]' <<<"$member_session") \
AWS_SECRET_ACCESS_KEY=$(json 'd["Credentials"]["SecretAccessKey"]' <<<"$member_session") \
AWS_SESSION_TOKEN=$(json 'd["Credentials"]["SessionToken"]' <<<"$member_session") \
    expect_error AccessDenied "the SCP denies CreateUser in the member account" iam create-user --user-name blocked

# ---- the decision endpoint (POST /v1/authorize) ----
a iam create-user --user-name pdp >/dev/null
a iam put-user-policy --user-name pdp --policy-name pdp \
    --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"castellan:Authorize","Resource":"*"}]}' >/dev/null
pdp_key=$(a iam create-access-key --user-name pdp)
decision=$(AWS_ACCESS_KEY_ID=$(json 'd["AccessKey"]["AccessKeyId"]' <<<"$pdp_key") \
    AWS_SECRET_ACCESS_KEY=$(json 'd["AccessKey"]["SecretAccessKey"]' <<<"$pdp_key") \
    castellan /v1/authorize "{\"principal\": \"arn:aws:iam::$account:user/eng/alice\", \"action\": \"s3:GetObject\", \"resource\": \"arn:aws:s3:::b/k\"}")
expect "/v1/authorize allows alice s3:GetObject" "$(tail -n 1 <<<"$decision" | json '[d["decision"], d["matchedStatements"][0]["policyId"] != ""]')" "['Allow', True]"
a iam create-user --user-name bystander >/dev/null
bystander_key=$(a iam create-access-key --user-name bystander)
denied=$(AWS_ACCESS_KEY_ID=$(json 'd["AccessKey"]["AccessKeyId"]' <<<"$bystander_key") \
    AWS_SECRET_ACCESS_KEY=$(json 'd["AccessKey"]["SecretAccessKey"]' <<<"$bystander_key") \
    castellan /v1/authorize "{\"principal\": \"arn:aws:iam::$account:root\", \"action\": \"s3:GetObject\", \"resource\": \"*\"}")
expect "/v1/authorize needs castellan:Authorize" "$(head -n 1 <<<"$denied")" "403"

commands=$(wc -l <"$tmp/commands")
echo "$commands AWS CLI commands, $failures failures"
[ "$commands" -ge 40 ] || { echo "FAIL fewer than 40 commands"; failures=$((failures + 1)); }
[ "$failures" -eq 0 ]
