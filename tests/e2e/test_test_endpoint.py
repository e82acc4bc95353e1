"""boto3 against `castellan serve --accounts 2 --test-reset --in-memory`, started by this file on
a free loopback port (CASTELLAN_BIN names the binary; run.sh sets it): work in both accounts as
their root users, OrganizationAccountAccessRole assumed from the management account into the
member account, then POST /_castellan/reset and only the bootstrap state is left."""

import configparser
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

CONFIG = Config(retries={"max_attempts": 1})
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
READ = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
BEGIN = "-----BEGIN CASTELLAN ROOT CREDENTIALS-----"
END = "-----END CASTELLAN ROOT CREDENTIALS-----"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The server's endpoint and the root credentials it printed, by profile."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASTELLAN_ROOT_")}
    env["CASTELLAN_LOG"] = "warn"
    with tempfile.TemporaryDirectory() as work:
        log_path = os.path.join(work, "server.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [os.environ["CASTELLAN_BIN"], "serve", "--listen", f"127.0.0.1:{port}",
                 "--accounts", "2", "--test-reset", "--in-memory"],
                stdout=subprocess.DEVNULL, stderr=log, cwd=work, env=env)
        try:
            text = ""
            for _ in range(300):
                with open(log_path) as f:
                    text = f.read()
                if "serving IAM" in text:
                    break
                assert proc.poll() is None, f"castellan serve exited: {text}"
                time.sleep(0.05)
            else:
                pytest.fail(f"castellan serve did not start: {text}")
            assert "WARNING: test resets enabled" in text
            block = text.split(BEGIN + "\n", 1)[1].split(END, 1)[0]
            profiles = configparser.ConfigParser()
            profiles.read_string(block)
            credentials = {name: {"aws_access_key_id": profiles[name]["aws_access_key_id"],
                                  "aws_secret_access_key": profiles[name]["aws_secret_access_key"]}
                           for name in profiles.sections() + ["default"]}
            yield f"http://127.0.0.1:{port}", credentials
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        # --in-memory writes nothing: the work directory holds only this test's log.
        assert os.listdir(work) == ["server.log"]


def client(endpoint, service, credentials):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", config=CONFIG, **credentials)


def keys(created):
    key = created["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def session_keys(assumed):
    c = assumed["Credentials"]
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def reset(endpoint):
    request = urllib.request.Request(endpoint + "/_castellan/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_work_in_two_accounts_then_reset(server):
    endpoint, creds = server
    assert set(creds) == {"default", "account-2"}
    mgmt_sts = client(endpoint, "sts", creds["default"])
    member_sts = client(endpoint, "sts", creds["account-2"])
    mgmt_me = mgmt_sts.get_caller_identity()
    member_me = member_sts.get_caller_identity()
    mgmt_id, member_id = mgmt_me["Account"], member_me["Account"]
    assert mgmt_id != member_id
    # As a root user: the account id as UserId and the root ARN, as in AWS.
    assert mgmt_me["UserId"] == mgmt_id and mgmt_me["Arn"] == f"arn:aws:iam::{mgmt_id}:root"
    assert member_me["UserId"] == member_id and member_me["Arn"] == f"arn:aws:iam::{member_id}:root"
    mgmt_iam = client(endpoint, "iam", creds["default"])
    member_iam = client(endpoint, "iam", creds["account-2"])
    assert mgmt_iam.get_user()["User"]["Arn"] == f"arn:aws:iam::{mgmt_id}:root"

    # One organization, all features, the first account its management account.
    orgs = client(endpoint, "organizations", creds["default"])
    org = orgs.describe_organization()["Organization"]
    assert org["MasterAccountId"] == mgmt_id and org["FeatureSet"] == "ALL"
    assert sorted(a["Id"] for a in orgs.list_accounts()["Accounts"]) == sorted([mgmt_id, member_id])

    # Work in both accounts as their root users.
    mgmt_iam.create_user(UserName="admin")
    mgmt_iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN_POLICY)
    admin_keys = keys(mgmt_iam.create_access_key(UserName="admin"))
    mgmt_iam.create_policy(PolicyName="read", PolicyDocument=READ)
    member_iam.create_user(UserName="member-user")
    member_iam.create_group(GroupName="devs")
    member_iam.create_account_alias(AccountAlias="member-alias")
    root_ou = orgs.list_roots()["Roots"][0]["Id"]
    ou_id = orgs.create_organizational_unit(ParentId=root_ou, Name="Workloads")["OrganizationalUnit"]["Id"]
    scp = orgs.create_policy(Name="deny-nothing", Description="", Type="SERVICE_CONTROL_POLICY",
                             Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                 {"Effect": "Deny", "Action": "nothing:Nothing", "Resource": "*"}]}))
    orgs.attach_policy(PolicyId=scp["Policy"]["PolicySummary"]["Id"], TargetId=member_id)

    # The management account assumes OrganizationAccountAccessRole in the member account (as an
    # administrator: AWS lets no root user assume a role) and is an administrator there.
    role_arn = f"arn:aws:iam::{member_id}:role/OrganizationAccountAccessRole"
    with pytest.raises(ClientError) as e:
        mgmt_sts.assume_role(RoleArn=role_arn, RoleSessionName="as-root")
    assert error_code(e) == "AccessDenied"
    admin_sts = client(endpoint, "sts", admin_keys)
    assumed = admin_sts.assume_role(RoleArn=role_arn, RoleSessionName="ops")
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{member_id}:assumed-role/OrganizationAccountAccessRole/ops"
    session = session_keys(assumed)
    as_role = client(endpoint, "iam", session)
    as_role.create_user(UserName="made-through-the-role")
    assert client(endpoint, "sts", session).get_caller_identity()["Account"] == member_id
    users = {u["UserName"] for u in member_iam.list_users()["Users"]}
    assert users == {"member-user", "made-through-the-role"}

    status, body = reset(endpoint)
    assert status == 200 and body["reset"] is True
    assert sorted(body["accounts"]) == sorted([mgmt_id, member_id])

    # Only the bootstrap state: no users, groups, customer policies, alias or OU; the roots'
    # keys are the same; the organization has its two accounts; the member's access role is
    # there (CreateAccount made it at bootstrap).
    assert mgmt_iam.list_users()["Users"] == []
    assert member_iam.list_users()["Users"] == []
    assert member_iam.list_groups()["Groups"] == []
    assert mgmt_iam.list_policies(Scope="Local")["Policies"] == []
    assert member_iam.list_account_aliases()["AccountAliases"] == []
    assert [r["RoleName"] for r in member_iam.list_roles()["Roles"]] == ["OrganizationAccountAccessRole"]
    assert mgmt_iam.list_roles()["Roles"] == []
    assert mgmt_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{mgmt_id}:root"
    assert member_sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{member_id}:root"
    assert sorted(a["Id"] for a in orgs.list_accounts()["Accounts"]) == sorted([mgmt_id, member_id])
    with pytest.raises(ClientError) as e:
        orgs.delete_organizational_unit(OrganizationalUnitId=ou_id)
    assert error_code(e) == "OrganizationalUnitNotFoundException"
    scps = orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert [p["Name"] for p in scps] == ["FullAWSAccess"]
    assert orgs.describe_organization()["Organization"]["Id"] == org["Id"]
    # Credentials made since the bootstrap no longer work: the admin's key, the role session.
    with pytest.raises(ClientError) as e:
        admin_sts.get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"
    with pytest.raises(ClientError) as e:
        client(endpoint, "sts", session).get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"

    # The bootstrap state works as it did: the role can be assumed again.
    mgmt_iam.create_user(UserName="admin")
    mgmt_iam.attach_user_policy(UserName="admin", PolicyArn=ADMIN_POLICY)
    again = client(endpoint, "sts", keys(mgmt_iam.create_access_key(UserName="admin")))
    assumed = again.assume_role(RoleArn=role_arn, RoleSessionName="ops")
    assert client(endpoint, "sts", session_keys(assumed)).get_caller_identity()["Account"] == member_id
    reset(endpoint)
    assert mgmt_iam.list_users()["Users"] == []


def test_reset_answers_get_with_405(server):
    endpoint, _ = server
    request = urllib.request.Request(endpoint + "/_castellan/reset", method="GET")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=30)
    assert e.value.code == 405
