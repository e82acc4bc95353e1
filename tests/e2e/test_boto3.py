"""boto3 against `castellan serve` (started by run.sh): one test per operation served, asserting
response fields and error codes. Each test makes its own uniquely named entities."""

import base64
import hashlib
import hmac
import json
import os
import struct
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["CASTELLAN_ENDPOINT"]
CONFIG = Config(retries={"max_attempts": 1})
READ = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


def client(service, **credentials):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1", config=CONFIG, **credentials)


def keys(created):
    key = created["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def session_keys(credentials):
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def totp(seed, offset):
    key = base64.b32decode(seed + b"=" * (-len(seed) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30 + offset), hashlib.sha1).digest()
    o = digest[-1] & 15
    return "%06d" % ((struct.unpack(">I", digest[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


@pytest.fixture(scope="module")
def iam():
    return client("iam")


@pytest.fixture(scope="module")
def sts():
    return client("sts")


@pytest.fixture(scope="module")
def account(sts):
    return sts.get_caller_identity()["Account"]


def trust(account):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                       "Action": ["sts:AssumeRole", "sts:TagSession"]}],
    })


@pytest.fixture(scope="module")
def admin(iam):
    """An administrator user's credentials (the root user may not assume roles)."""
    user = name("admin")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=ADMIN_POLICY)
    return keys(iam.create_access_key(UserName=user))


@pytest.fixture()
def user(iam):
    n = name("user")
    iam.create_user(UserName=n)
    return n


@pytest.fixture()
def group(iam):
    n = name("group")
    iam.create_group(GroupName=n)
    return n


@pytest.fixture()
def role(iam, account):
    n = name("role")
    iam.create_role(RoleName=n, AssumeRolePolicyDocument=trust(account))
    return n


@pytest.fixture()
def policy(iam):
    return iam.create_policy(PolicyName=name("policy"), PolicyDocument=READ)["Policy"]["Arn"]


# ---- STS ----

def test_get_caller_identity(sts, account):
    identity = sts.get_caller_identity()
    assert identity["Arn"] == f"arn:aws:iam::{account}:root"
    assert identity["UserId"] == account


def test_assume_role(iam, role, account, admin):
    response = client("sts", **admin).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="s1", DurationSeconds=900,
        Tags=[{"Key": "team", "Value": "red"}], TransitiveTagKeys=["team"], SourceIdentity="alice",
        PolicyArns=[{"arn": ADMIN_POLICY}])
    assert response["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role}/s1"
    assert response["Credentials"]["AccessKeyId"].startswith("ASIA")
    assert response["SourceIdentity"] == "alice"
    me = client("sts", **session_keys(response["Credentials"])).get_caller_identity()
    assert me["Arn"] == response["AssumedRoleUser"]["Arn"]


def test_assume_role_refuses_the_root_user(sts, role, account):
    with pytest.raises(ClientError) as e:
        sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="s1")
    assert error_code(e) == "AccessDenied"


def test_get_session_token(iam, user):
    creds = client("sts", **keys(iam.create_access_key(UserName=user))).get_session_token(DurationSeconds=900)
    assert creds["Credentials"]["SessionToken"]
    me = client("sts", **session_keys(creds["Credentials"])).get_caller_identity()
    assert me["Arn"].endswith(f":user/{user}")


def test_get_federation_token(iam, user, account):
    iam.put_user_policy(UserName=user, PolicyName="fed", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"}]}))
    response = client("sts", **keys(iam.create_access_key(UserName=user))).get_federation_token(Name="bob", Policy=READ)
    assert response["FederatedUser"]["Arn"] == f"arn:aws:sts::{account}:federated-user/bob"


def test_assume_role_with_web_identity_is_unsigned_and_checks_the_token(account):
    from botocore import UNSIGNED
    unsigned = boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1",
                            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        unsigned.assume_role_with_web_identity(RoleArn=f"arn:aws:iam::{account}:role/none",
                                               RoleSessionName="s1", WebIdentityToken="not.a.jwt")
    assert error_code(e) != "MissingAuthenticationToken"


def test_get_access_key_info(iam, sts, user, account):
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == account


def test_decode_authorization_message(sts):
    with pytest.raises(ClientError) as e:
        sts.decode_authorization_message(EncodedMessage="not-a-message")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 403)


# ---- users ----

def test_create_user(iam, account):
    n = name("u")
    u = iam.create_user(UserName=n, Path="/eng/", Tags=[{"Key": "k", "Value": "v"}])["User"]
    assert u["Arn"] == f"arn:aws:iam::{account}:user/eng/{n}"
    assert u["UserId"].startswith("AIDA")
    assert u["Tags"] == [{"Key": "k", "Value": "v"}]
    with pytest.raises(ClientError) as e:
        iam.create_user(UserName=n)
    assert error_code(e) == "EntityAlreadyExists"


def test_get_user(iam, user, account):
    assert iam.get_user(UserName=user)["User"]["UserName"] == user
    assert iam.get_user()["User"]["Arn"] == f"arn:aws:iam::{account}:root"
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName="nobody-at-all")
    assert error_code(e) == "NoSuchEntity"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_list_users(iam, user):
    names = [u["UserName"] for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
             for u in page["Users"]]
    assert user in names
    first = iam.list_users(MaxItems=1)
    assert first["IsTruncated"] is True and first["Marker"]


def test_update_user(iam, user):
    iam.update_user(UserName=user, NewPath="/moved/")
    assert iam.get_user(UserName=user)["User"]["Path"] == "/moved/"


def test_delete_user(iam, user):
    iam.delete_user(UserName=user)
    with pytest.raises(ClientError) as e:
        iam.get_user(UserName=user)
    assert error_code(e) == "NoSuchEntity"


def test_tag_user(iam, user):
    iam.tag_user(UserName=user, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.get_user(UserName=user)["User"]["Tags"] == [{"Key": "a", "Value": "1"}]


def test_untag_user(iam, user):
    iam.tag_user(UserName=user, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.untag_user(UserName=user, TagKeys=["a"])
    assert iam.get_user(UserName=user)["User"]["Tags"] == [{"Key": "b", "Value": "2"}]


def test_put_user_permissions_boundary(iam, user, policy):
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=policy)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy


def test_delete_user_permissions_boundary(iam, user, policy):
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=policy)
    iam.delete_user_permissions_boundary(UserName=user)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]


# ---- groups ----

def test_create_group(iam):
    n = name("g")
    assert iam.create_group(GroupName=n)["Group"]["GroupId"].startswith("AGPA")


def test_get_group(iam, group, user):
    iam.add_user_to_group(GroupName=group, UserName=user)
    response = iam.get_group(GroupName=group)
    assert response["Group"]["GroupName"] == group
    assert [u["UserName"] for u in response["Users"]] == [user]


def test_list_groups(iam, group):
    assert group in [g["GroupName"] for g in iam.list_groups()["Groups"]]


def test_update_group(iam, group):
    new = name("g2")
    iam.update_group(GroupName=group, NewGroupName=new)
    assert iam.get_group(GroupName=new)["Group"]["GroupName"] == new


def test_delete_group(iam, group):
    iam.delete_group(GroupName=group)
    with pytest.raises(ClientError) as e:
        iam.get_group(GroupName=group)
    assert error_code(e) == "NoSuchEntity"


def test_add_user_to_group(iam, group, user):
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]


def test_remove_user_from_group(iam, group, user):
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert iam.get_group(GroupName=group)["Users"] == []


def test_list_groups_for_user(iam, group, user):
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert iam.list_groups_for_user(UserName=user)["Groups"][0]["GroupName"] == group


# ---- roles ----

def test_create_role(iam, account):
    n = name("r")
    r = iam.create_role(RoleName=n, AssumeRolePolicyDocument=trust(account), Description="d <&>",
                        MaxSessionDuration=7200, Tags=[{"Key": "k", "Value": "v"}])["Role"]
    assert r["RoleId"].startswith("AROA")
    assert r["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] == f"arn:aws:iam::{account}:root"
    assert r["Description"] == "d <&>"
    assert r["MaxSessionDuration"] == 7200


def test_get_role(iam, role):
    assert iam.get_role(RoleName=role)["Role"]["RoleName"] == role


def test_list_roles(iam, role):
    names = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]]
    assert role in names


def test_update_role(iam, role):
    iam.update_role(RoleName=role, Description="new", MaxSessionDuration=10800)
    r = iam.get_role(RoleName=role)["Role"]
    assert (r["Description"], r["MaxSessionDuration"]) == ("new", 10800)


def test_update_assume_role_policy(iam, role):
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=doc)
    principal = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
    assert principal == {"Service": "ec2.amazonaws.com"}


def test_delete_role(iam, role):
    iam.delete_role(RoleName=role)
    with pytest.raises(ClientError) as e:
        iam.get_role(RoleName=role)
    assert error_code(e) == "NoSuchEntity"


def test_tag_role(iam, role):
    iam.tag_role(RoleName=role, Tags=[{"Key": "env", "Value": "prod"}])
    assert iam.get_role(RoleName=role)["Role"]["Tags"] == [{"Key": "env", "Value": "prod"}]


def test_untag_role(iam, role):
    iam.tag_role(RoleName=role, Tags=[{"Key": "env", "Value": "prod"}])
    iam.untag_role(RoleName=role, TagKeys=["env"])
    assert "Tags" not in iam.get_role(RoleName=role)["Role"]


def test_put_role_permissions_boundary(iam, role, policy):
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=policy)
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == policy


def test_delete_role_permissions_boundary(iam, role, policy):
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=policy)
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]


# ---- managed policies and versions ----

def test_create_policy(iam, account):
    n = name("p")
    p = iam.create_policy(PolicyName=n, PolicyDocument=READ, Description="reads")["Policy"]
    assert p["Arn"] == f"arn:aws:iam::{account}:policy/{n}"
    assert (p["DefaultVersionId"], p["AttachmentCount"], p["IsAttachable"]) == ("v1", 0, True)
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName=name("bad"), PolicyDocument='{"Statement": "nope"}')
    assert error_code(e) == "MalformedPolicyDocument"


def test_get_policy(iam, policy):
    assert iam.get_policy(PolicyArn=policy)["Policy"]["Arn"] == policy
    assert iam.get_policy(PolicyArn=ADMIN_POLICY)["Policy"]["PolicyName"] == "AdministratorAccess"


def test_list_policies(iam, policy):
    local = [p["Arn"] for page in iam.get_paginator("list_policies").paginate(Scope="Local") for p in page["Policies"]]
    assert policy in local
    aws = iam.list_policies(Scope="AWS", MaxItems=5)
    assert all(p["Arn"].startswith("arn:aws:iam::aws:policy/") for p in aws["Policies"])


def test_delete_policy(iam, policy, user):
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    with pytest.raises(ClientError) as e:
        iam.delete_policy(PolicyArn=policy)
    assert error_code(e) == "DeleteConflict"
    iam.detach_user_policy(UserName=user, PolicyArn=policy)
    iam.delete_policy(PolicyArn=policy)
    with pytest.raises(ClientError) as e:
        iam.get_policy(PolicyArn=policy)
    assert error_code(e) == "NoSuchEntity"


def test_create_policy_version(iam, policy):
    v = iam.create_policy_version(PolicyArn=policy, PolicyDocument=READ, SetAsDefault=True)["PolicyVersion"]
    assert (v["VersionId"], v["IsDefaultVersion"]) == ("v2", True)
    for _ in range(3):
        iam.create_policy_version(PolicyArn=policy, PolicyDocument=READ)
    with pytest.raises(ClientError) as e:
        iam.create_policy_version(PolicyArn=policy, PolicyDocument=READ)
    assert error_code(e) == "LimitExceeded"


def test_get_policy_version(iam, policy):
    v = iam.get_policy_version(PolicyArn=policy, VersionId="v1")["PolicyVersion"]
    assert v["Document"] == json.loads(READ)
    assert v["IsDefaultVersion"] is True


def test_list_policy_versions(iam, policy):
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=READ)
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=policy)["Versions"]] in (["v2", "v1"], ["v1", "v2"])


def test_set_default_policy_version(iam, policy):
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=READ)
    iam.set_default_policy_version(PolicyArn=policy, VersionId="v2")
    assert iam.get_policy(PolicyArn=policy)["Policy"]["DefaultVersionId"] == "v2"


def test_delete_policy_version(iam, policy):
    iam.create_policy_version(PolicyArn=policy, PolicyDocument=READ)
    iam.delete_policy_version(PolicyArn=policy, VersionId="v2")
    with pytest.raises(ClientError) as e:
        iam.delete_policy_version(PolicyArn=policy, VersionId="v1")
    assert error_code(e) == "DeleteConflict"


# ---- attachments ----

def test_attach_user_policy(iam, user, policy):
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    assert iam.get_policy(PolicyArn=policy)["Policy"]["AttachmentCount"] == 1


def test_attach_group_policy(iam, group, policy):
    iam.attach_group_policy(GroupName=group, PolicyArn=policy)
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"][0]["PolicyArn"] == policy


def test_attach_role_policy(iam, role, policy):
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"][0]["PolicyArn"] == policy


def test_detach_user_policy(iam, user, policy):
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    iam.detach_user_policy(UserName=user, PolicyArn=policy)
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == []


def test_detach_group_policy(iam, group, policy):
    iam.attach_group_policy(GroupName=group, PolicyArn=policy)
    iam.detach_group_policy(GroupName=group, PolicyArn=policy)
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"] == []


def test_detach_role_policy(iam, role, policy):
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    iam.detach_role_policy(RoleName=role, PolicyArn=policy)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_list_attached_user_policies(iam, user):
    iam.attach_user_policy(UserName=user, PolicyArn=ADMIN_POLICY)
    attached = iam.list_attached_user_policies(UserName=user)
    assert attached["AttachedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN_POLICY}]
    assert attached["IsTruncated"] is False


def test_list_attached_group_policies(iam, group):
    iam.attach_group_policy(GroupName=group, PolicyArn=ADMIN_POLICY)
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"][0]["PolicyName"] == "AdministratorAccess"


def test_list_attached_role_policies(iam, role):
    iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN_POLICY)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"][0]["PolicyName"] == "AdministratorAccess"


# ---- inline policies ----

@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_put_inline_policy(iam, kind, request):
    entity = request.getfixturevalue(kind)
    key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
    getattr(iam, f"put_{kind}_policy")(**{key: entity}, PolicyName="inline", PolicyDocument=READ)
    got = getattr(iam, f"get_{kind}_policy")(**{key: entity}, PolicyName="inline")
    assert got["PolicyDocument"] == json.loads(READ)
    assert got[key] == entity


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_get_inline_policy_of_nothing(iam, kind, request):
    entity = request.getfixturevalue(kind)
    key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
    with pytest.raises(ClientError) as e:
        getattr(iam, f"get_{kind}_policy")(**{key: entity}, PolicyName="none")
    assert error_code(e) == "NoSuchEntity"


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_list_inline_policies(iam, kind, request):
    entity = request.getfixturevalue(kind)
    key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
    getattr(iam, f"put_{kind}_policy")(**{key: entity}, PolicyName="b", PolicyDocument=READ)
    getattr(iam, f"put_{kind}_policy")(**{key: entity}, PolicyName="a", PolicyDocument=READ)
    assert sorted(getattr(iam, f"list_{kind}_policies")(**{key: entity})["PolicyNames"]) == ["a", "b"]


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_delete_inline_policy(iam, kind, request):
    entity = request.getfixturevalue(kind)
    key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
    getattr(iam, f"put_{kind}_policy")(**{key: entity}, PolicyName="x", PolicyDocument=READ)
    getattr(iam, f"delete_{kind}_policy")(**{key: entity}, PolicyName="x")
    assert getattr(iam, f"list_{kind}_policies")(**{key: entity})["PolicyNames"] == []


# ---- instance profiles ----

def test_create_instance_profile(iam, account):
    n = name("ip")
    p = iam.create_instance_profile(InstanceProfileName=n)["InstanceProfile"]
    assert p["Arn"] == f"arn:aws:iam::{account}:instance-profile/{n}"
    assert p["Roles"] == []


def test_get_instance_profile(iam):
    n = name("ip")
    iam.create_instance_profile(InstanceProfileName=n)
    assert iam.get_instance_profile(InstanceProfileName=n)["InstanceProfile"]["InstanceProfileName"] == n


def test_add_role_to_instance_profile(iam, role):
    n = name("ip")
    iam.create_instance_profile(InstanceProfileName=n)
    iam.add_role_to_instance_profile(InstanceProfileName=n, RoleName=role)
    assert iam.get_instance_profile(InstanceProfileName=n)["InstanceProfile"]["Roles"][0]["RoleName"] == role


def test_remove_role_from_instance_profile(iam, role):
    n = name("ip")
    iam.create_instance_profile(InstanceProfileName=n)
    iam.add_role_to_instance_profile(InstanceProfileName=n, RoleName=role)
    iam.remove_role_from_instance_profile(InstanceProfileName=n, RoleName=role)
    assert iam.get_instance_profile(InstanceProfileName=n)["InstanceProfile"]["Roles"] == []


def test_delete_instance_profile(iam):
    n = name("ip")
    iam.create_instance_profile(InstanceProfileName=n)
    iam.delete_instance_profile(InstanceProfileName=n)
    with pytest.raises(ClientError) as e:
        iam.get_instance_profile(InstanceProfileName=n)
    assert error_code(e) == "NoSuchEntity"


# ---- access keys ----

def test_create_access_key(iam, user):
    key = iam.create_access_key(UserName=user)["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    assert key["Status"] == "Active" and key["UserName"] == user
    iam.create_access_key(UserName=user)
    with pytest.raises(ClientError) as e:
        iam.create_access_key(UserName=user)
    assert error_code(e) == "LimitExceeded"


def test_list_access_keys(iam, user):
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert [(k["UserName"], k["AccessKeyId"], k["Status"]) for k in listed] == [(user, key, "Active")]


def test_update_access_key(iam, user):
    created = iam.create_access_key(UserName=user)
    iam.update_access_key(UserName=user, AccessKeyId=created["AccessKey"]["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as e:
        client("sts", **keys(created)).get_caller_identity()
    assert error_code(e) == "InvalidClientTokenId"


def test_delete_access_key(iam, user):
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.delete_access_key(UserName=user, AccessKeyId=key)
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []


def test_a_user_without_permissions_is_denied(iam, user):
    with pytest.raises(ClientError) as e:
        client("iam", **keys(iam.create_access_key(UserName=user))).list_users()
    assert error_code(e) == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_bad_signature_is_refused(iam, user):
    creds = keys(iam.create_access_key(UserName=user))
    creds["aws_secret_access_key"] = "x" * 40
    with pytest.raises(ClientError) as e:
        client("sts", **creds).get_caller_identity()
    assert error_code(e) == "SignatureDoesNotMatch"


# ---- login profiles ----

def test_create_login_profile(iam, user):
    profile = iam.create_login_profile(UserName=user, Password="Correct-Horse-42", PasswordResetRequired=True)
    assert profile["LoginProfile"]["UserName"] == user
    assert profile["LoginProfile"]["PasswordResetRequired"] is True


def test_get_login_profile(iam, user):
    with pytest.raises(ClientError) as e:
        iam.get_login_profile(UserName=user)
    assert error_code(e) == "NoSuchEntity"
    iam.create_login_profile(UserName=user, Password="Correct-Horse-42")
    assert iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"] is False


def test_update_login_profile(iam, user):
    iam.create_login_profile(UserName=user, Password="Correct-Horse-42")
    iam.update_login_profile(UserName=user, PasswordResetRequired=True)
    assert iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"] is True


def test_delete_login_profile(iam, user):
    iam.create_login_profile(UserName=user, Password="Correct-Horse-42")
    iam.delete_login_profile(UserName=user)
    with pytest.raises(ClientError) as e:
        iam.get_login_profile(UserName=user)
    assert error_code(e) == "NoSuchEntity"


def test_change_password(iam, user):
    iam.create_login_profile(UserName=user, Password="Correct-Horse-42")
    iam.put_user_policy(UserName=user, PolicyName="pw", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ChangePassword", "Resource": "*"}]}))
    own = client("iam", **keys(iam.create_access_key(UserName=user)))
    own.change_password(OldPassword="Correct-Horse-42", NewPassword="Battery-Staple-43")
    with pytest.raises(ClientError) as e:
        own.change_password(OldPassword="wrong-password-1", NewPassword="Another-Pass-44")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] >= 400


# ---- MFA ----

def mfa_device(iam):
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=name("mfa"))["VirtualMFADevice"]
    return created["SerialNumber"], created["Base32StringSeed"]


def test_create_virtual_mfa_device(iam, account):
    n = name("mfa")
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=n)["VirtualMFADevice"]
    assert created["SerialNumber"] == f"arn:aws:iam::{account}:mfa/{n}"
    assert base64.b32decode(created["Base32StringSeed"] + b"=" * (-len(created["Base32StringSeed"]) % 8))
    assert created["QRCodePNG"].startswith(b"otpauth://totp/")


def test_enable_mfa_device(iam, user):
    serial, seed = mfa_device(iam)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=totp(seed, -1), AuthenticationCode2=totp(seed, 0))
    device = iam.list_mfa_devices(UserName=user)["MFADevices"][0]
    assert (device["UserName"], device["SerialNumber"]) == (user, serial)
    assert device["EnableDate"]


def test_enable_mfa_device_with_wrong_codes(iam, user):
    serial, _ = mfa_device(iam)
    with pytest.raises(ClientError) as e:
        iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="000000",
                              AuthenticationCode2="000001")
    assert error_code(e) == "InvalidAuthenticationCode"


def test_resync_mfa_device(iam, user):
    serial, seed = mfa_device(iam)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=totp(seed, -1), AuthenticationCode2=totp(seed, 0))
    iam.resync_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=totp(seed, 1), AuthenticationCode2=totp(seed, 2))


def test_deactivate_mfa_device(iam, user):
    serial, seed = mfa_device(iam)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=totp(seed, -1), AuthenticationCode2=totp(seed, 0))
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []


def test_delete_virtual_mfa_device(iam):
    serial, _ = mfa_device(iam)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(ClientError) as e:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_code(e) == "NoSuchEntity"


def test_list_mfa_devices(iam, user):
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []


# ---- password policy and alias ----

def test_update_account_password_policy(iam):
    iam.update_account_password_policy(MinimumPasswordLength=14, RequireSymbols=True, MaxPasswordAge=90)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert (policy["MinimumPasswordLength"], policy["RequireSymbols"], policy["ExpirePasswords"]) == (14, True, True)
    iam.delete_account_password_policy()


def test_get_account_password_policy(iam):
    iam.update_account_password_policy(MinimumPasswordLength=8)
    assert iam.get_account_password_policy()["PasswordPolicy"]["MinimumPasswordLength"] == 8
    iam.delete_account_password_policy()


def test_delete_account_password_policy(iam):
    iam.update_account_password_policy(MinimumPasswordLength=8)
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as e:
        iam.get_account_password_policy()
    assert error_code(e) == "NoSuchEntity"


def test_create_account_alias(iam):
    alias = name("alias")
    iam.create_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == [alias]
    iam.delete_account_alias(AccountAlias=alias)


def test_list_account_aliases(iam):
    assert iam.list_account_aliases()["IsTruncated"] is False


def test_delete_account_alias(iam):
    alias = name("alias")
    iam.create_account_alias(AccountAlias=alias)
    iam.delete_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == []


# ---- Organizations ----

@pytest.fixture(scope="module")
def org():
    organizations = client("organizations")
    try:
        organizations.create_organization(FeatureSet="ALL")
    except ClientError as e:
        assert error_code_of(e) == "AlreadyInOrganizationException"
    return organizations


def error_code_of(e):
    return e.response["Error"]["Code"]


@pytest.fixture(scope="module")
def root_id(org):
    return org.list_roots()["Roots"][0]["Id"]


def test_create_organization(org, account):
    with pytest.raises(ClientError) as e:
        org.create_organization(FeatureSet="ALL")
    assert error_code(e) == "AlreadyInOrganizationException"


def test_describe_organization(org, account):
    o = org.describe_organization()["Organization"]
    assert o["MasterAccountId"] == account and o["Id"].startswith("o-")


def test_list_roots(org, root_id):
    assert root_id.startswith("r-")


def test_create_organizational_unit(org, root_id):
    ou = org.create_organizational_unit(ParentId=root_id, Name=name("ou"))["OrganizationalUnit"]
    assert ou["Id"].startswith("ou-")


def test_create_account(org):
    status = org.create_account(AccountName=name("acct"), Email="a@example.com")["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED" and len(status["AccountId"]) == 12


def test_move_account(org, root_id):
    account_id = org.create_account(AccountName=name("acct"), Email="m@example.com")["CreateAccountStatus"]["AccountId"]
    ou = org.create_organizational_unit(ParentId=root_id, Name=name("ou"))["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ou)


def test_list_accounts(org, account):
    assert account in [a["Id"] for a in org.list_accounts()["Accounts"]]


SCP = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]})


def test_create_policy_scp(org):
    p = org.create_policy(Name=name("scp"), Description="d", Type="SERVICE_CONTROL_POLICY", Content=SCP)["Policy"]
    assert p["PolicySummary"]["Type"] == "SERVICE_CONTROL_POLICY" and p["PolicySummary"]["Id"].startswith("p-")


def test_attach_policy_denies_in_the_member_account(org, admin):
    account_id = org.create_account(AccountName=name("acct"), Email="s@example.com")["CreateAccountStatus"]["AccountId"]
    policy_id = org.create_policy(Name=name("scp"), Description="d", Type="SERVICE_CONTROL_POLICY",
                                  Content=SCP)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId=account_id)
    creds = client("sts", **admin).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="ops")["Credentials"]
    with pytest.raises(ClientError) as e:
        client("iam", **session_keys(creds)).create_user(UserName="blocked")
    assert error_code(e) == "AccessDenied"


def test_detach_policy(org):
    account_id = org.create_account(AccountName=name("acct"), Email="d@example.com")["CreateAccountStatus"]["AccountId"]
    policy_id = org.create_policy(Name=name("scp"), Description="d", Type="SERVICE_CONTROL_POLICY",
                                  Content=SCP)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId=account_id)
    org.detach_policy(PolicyId=policy_id, TargetId=account_id)


def test_list_policies_org(org):
    names = [p["Name"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]]
    assert "FullAWSAccess" in names


def test_enable_policy_type(org, root_id):
    root = org.enable_policy_type(RootId=root_id, PolicyType="RESOURCE_CONTROL_POLICY")["Root"]
    assert "RESOURCE_CONTROL_POLICY" in [t["Type"] for t in root["PolicyTypes"]]


def test_disable_policy_type(org, root_id):
    try:
        org.enable_policy_type(RootId=root_id, PolicyType="RESOURCE_CONTROL_POLICY")
    except ClientError:
        pass
    root = org.disable_policy_type(RootId=root_id, PolicyType="RESOURCE_CONTROL_POLICY")["Root"]
    assert "RESOURCE_CONTROL_POLICY" not in [t["Type"] for t in root["PolicyTypes"]]


# ---- simulator, tags, listings, last used, summary ----

def test_simulate_principal_policy(iam, user, account):
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=READ)
    results = iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/{user}",
                                            ActionNames=["s3:GetObject", "s3:PutObject"])["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "read"


def test_simulate_custom_policy(iam):
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:username": "mallory"}}}]})
    results = iam.simulate_custom_policy(
        PolicyInputList=[deny], ActionNames=["s3:GetObject", "s3:DeleteObject"],
        ContextEntries=[{"ContextKeyName": "aws:username", "ContextKeyValues": ["mallory"],
                         "ContextKeyType": "string"}])["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "explicitDeny"]


def test_get_context_keys_for_custom_policy(iam):
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]})
    assert iam.get_context_keys_for_custom_policy(PolicyInputList=[doc])["ContextKeyNames"] == ["aws:SecureTransport"]


def test_get_context_keys_for_principal_policy(iam, user, account):
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
    iam.put_user_policy(UserName=user, PolicyName="ip", PolicyDocument=doc)
    keys_ = iam.get_context_keys_for_principal_policy(PolicySourceArn=f"arn:aws:iam::{account}:user/{user}")
    assert keys_["ContextKeyNames"] == ["aws:SourceIp"]


def test_list_user_tags(iam, user):
    iam.tag_user(UserName=user, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": "a", "Value": "1"}]


def test_list_role_tags(iam, role):
    iam.tag_role(RoleName=role, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_role_tags(RoleName=role)["Tags"] == [{"Key": "a", "Value": "1"}]


def test_tag_policy(iam, policy):
    iam.tag_policy(PolicyArn=policy, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_policy_tags(PolicyArn=policy)["Tags"] == [{"Key": "a", "Value": "1"}]


def test_untag_policy(iam, policy):
    iam.tag_policy(PolicyArn=policy, Tags=[{"Key": "a", "Value": "1"}])
    iam.untag_policy(PolicyArn=policy, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=policy)["Tags"] == []


def test_tag_instance_profile(iam):
    n = name("ip")
    iam.create_instance_profile(InstanceProfileName=n)
    iam.tag_instance_profile(InstanceProfileName=n, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_instance_profile_tags(InstanceProfileName=n)["Tags"] == [{"Key": "a", "Value": "1"}]
    iam.untag_instance_profile(InstanceProfileName=n, TagKeys=["a"])
    assert iam.list_instance_profile_tags(InstanceProfileName=n)["Tags"] == []


def test_tag_mfa_device(iam):
    serial, _ = mfa_device(iam)
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "a", "Value": "1"}]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["a"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == []


def test_list_instance_profiles(iam, role):
    n = name("ip")
    iam.create_instance_profile(InstanceProfileName=n)
    iam.add_role_to_instance_profile(InstanceProfileName=n, RoleName=role)
    profiles = {p["InstanceProfileName"]: p for page in iam.get_paginator("list_instance_profiles").paginate()
                for p in page["InstanceProfiles"]}
    assert profiles[n]["Roles"][0]["RoleName"] == role


def test_list_instance_profiles_for_role(iam, role):
    n = name("ip")
    iam.create_instance_profile(InstanceProfileName=n)
    iam.add_role_to_instance_profile(InstanceProfileName=n, RoleName=role)
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]] == [n]


def test_list_virtual_mfa_devices(iam):
    serial, _ = mfa_device(iam)
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert serial in [d["SerialNumber"] for d in unassigned]


def test_get_access_key_last_used(iam, user):
    created = iam.create_access_key(UserName=user)
    client("sts", **keys(created)).get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=created["AccessKey"]["AccessKeyId"])
    assert used["UserName"] == user
    assert used["AccessKeyLastUsed"]["ServiceName"] in ("sts", "N/A")


def test_get_account_summary(iam):
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["Users"] >= 1 and "UsersQuota" in summary


def test_list_entities_for_policy(iam, user, group, role, policy):
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    iam.attach_group_policy(GroupName=group, PolicyArn=policy)
    iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    entities = iam.list_entities_for_policy(PolicyArn=policy)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    assert iam.list_entities_for_policy(PolicyArn=policy, EntityFilter="Role")["PolicyUsers"] == []


def oidc_provider(iam):
    url = f"https://{name('issuer')}.example.com"
    arn = iam.create_open_id_connect_provider(Url=url, ClientIDList=["app"], ThumbprintList=["a" * 40])[
        "OpenIDConnectProviderArn"]
    return url, arn


def test_create_open_id_connect_provider(iam, account):
    url, arn = oidc_provider(iam)
    assert arn == f"arn:aws:iam::{account}:oidc-provider/{url[len('https://'):]}"
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["app"], ThumbprintList=["a" * 40])
    assert error_code(e) == "EntityAlreadyExists"


def test_get_open_id_connect_provider(iam):
    url, arn = oidc_provider(iam)
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["ClientIDList"], got["ThumbprintList"]) == (["app"], ["a" * 40])


def test_list_open_id_connect_providers(iam):
    _, arn = oidc_provider(iam)
    assert arn in [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def test_delete_open_id_connect_provider(iam):
    _, arn = oidc_provider(iam)
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error_code(e) == "NoSuchEntity"


def test_add_client_id_to_open_id_connect_provider(iam):
    _, arn = oidc_provider(iam)
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="other")
    assert sorted(iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"]) == ["app", "other"]


def test_remove_client_id_from_open_id_connect_provider(iam):
    _, arn = oidc_provider(iam)
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn).get("ClientIDList", []) == []


def test_update_open_id_connect_provider_thumbprint(iam):
    _, arn = oidc_provider(iam)
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn, ThumbprintList=["b" * 40])
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ThumbprintList"] == ["b" * 40]


def test_tag_open_id_connect_provider(iam):
    _, arn = oidc_provider(iam)
    iam.tag_open_id_connect_provider(OpenIDConnectProviderArn=arn, Tags=[{"Key": "a", "Value": "1"}])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    iam.untag_open_id_connect_provider(OpenIDConnectProviderArn=arn, TagKeys=["a"])
    assert iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"] == []


# ---- SAML providers ----

SAML_METADATA = ('<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com">'
                 f'<!-- {"x" * 1000} --></EntityDescriptor>')


def saml_provider(iam):
    return iam.create_saml_provider(Name=name("idp"), SAMLMetadataDocument=SAML_METADATA,
                                    Tags=[{"Key": "k", "Value": "v"}])["SAMLProviderArn"]


def test_create_saml_provider(iam, account):
    arn = saml_provider(iam)
    assert arn.startswith(f"arn:aws:iam::{account}:saml-provider/idp-")


def test_get_saml_provider(iam):
    got = iam.get_saml_provider(SAMLProviderArn=saml_provider(iam))
    assert got["SAMLMetadataDocument"] == SAML_METADATA
    assert got["Tags"] == [{"Key": "k", "Value": "v"}] and got["CreateDate"].year >= 2024


def test_list_saml_providers(iam):
    arn = saml_provider(iam)
    assert arn in [p["Arn"] for p in iam.list_saml_providers()["SAMLProviderList"]]


def test_update_saml_provider(iam):
    arn = saml_provider(iam)
    updated = SAML_METADATA.replace("idp.example.com", "idp2.example.com")
    assert iam.update_saml_provider(SAMLProviderArn=arn, SAMLMetadataDocument=updated)["SAMLProviderArn"] == arn
    assert iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"] == updated


def test_delete_saml_provider(iam):
    arn = saml_provider(iam)
    iam.delete_saml_provider(SAMLProviderArn=arn)
    with pytest.raises(ClientError) as e:
        iam.get_saml_provider(SAMLProviderArn=arn)
    assert error_code(e) == "NoSuchEntity"


# ---- authorization details, reports, role last used ----

def test_get_account_authorization_details(iam, user, role, policy):
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=READ)
    iam.attach_user_policy(UserName=user, PolicyArn=policy)
    pages = list(iam.get_paginator("get_account_authorization_details").paginate())
    assert pages[-1]["IsTruncated"] is False
    details = {k: [x for page in pages for x in page[k]]
               for k in ["UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"]}
    users = {u["UserName"]: u for u in details["UserDetailList"]}
    assert users[user]["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == "s3:GetObject"
    assert users[user]["AttachedManagedPolicies"][0]["PolicyArn"] == policy
    assert role in [r["RoleName"] for r in details["RoleDetailList"]]
    policies = {p["Arn"]: p for p in details["Policies"]}
    assert policies[policy]["PolicyVersionList"][0]["Document"]["Statement"][0]["Action"] == "s3:GetObject"


def test_get_account_authorization_details_filters_and_pages(iam, role):
    only_roles = iam.get_account_authorization_details(Filter=["Role"], MaxItems=1000)
    assert only_roles["UserDetailList"] == [] and only_roles["Policies"] == []
    assert role in [r["RoleName"] for r in only_roles["RoleDetailList"]]
    pages = list(iam.get_paginator("get_account_authorization_details").paginate(
        Filter=["Role"], PaginationConfig={"PageSize": 1}))
    assert len(pages) >= 2
    names = [r["RoleName"] for page in pages for r in page["RoleDetailList"]]
    assert role in names and len(names) == len(set(names))


def test_generate_credential_report(iam):
    assert iam.generate_credential_report()["State"] == "COMPLETE"


def test_get_credential_report(iam, user):
    iam.generate_credential_report()
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    lines = report["Content"].decode().splitlines()
    assert lines[0].startswith("user,arn,user_creation_time,password_enabled,")
    assert lines[1].startswith("<root_account>,")


def test_generate_service_last_accessed_details(iam, user, account):
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=READ)
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{account}:user/{user}")["JobId"]
    assert len(job) == 36


def test_get_service_last_accessed_details(iam, account):
    job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{account}:user/{iam_admin_name(iam)}")["JobId"]
    details = iam.get_service_last_accessed_details(JobId=job)
    assert details["JobStatus"] == "COMPLETED" and details["JobType"] == "SERVICE_LEVEL"
    with pytest.raises(ClientError) as e:
        iam.get_service_last_accessed_details(JobId="00000000-0000-4000-8000-000000000000")
    assert error_code(e) == "NoSuchEntity"


def iam_admin_name(iam):
    """A user with a policy naming services (made here, so that the report has rows)."""
    n = name("svc")
    iam.create_user(UserName=n)
    iam.put_user_policy(UserName=n, PolicyName="read", PolicyDocument=READ)
    return n


def test_get_role_has_role_last_used(iam, account, admin):
    n = name("role")
    iam.create_role(RoleName=n, AssumeRolePolicyDocument=trust(account))
    assert "LastUsedDate" not in iam.get_role(RoleName=n)["Role"]["RoleLastUsed"]
    creds = client("sts", **admin).assume_role(RoleArn=f"arn:aws:iam::{account}:role/{n}",
                                               RoleSessionName="sess")["Credentials"]
    client("sts", **session_keys(creds)).get_caller_identity()
    last = iam.get_role(RoleName=n)["Role"]["RoleLastUsed"]
    assert last["LastUsedDate"].year >= 2024 and last["Region"] == "us-east-1"


# ---- Organizations: policies, OUs, accounts ----

def scp(org):
    return org.create_policy(Name=name("scp"), Description="d", Type="SERVICE_CONTROL_POLICY",
                             Content=SCP)["Policy"]["PolicySummary"]["Id"]


def test_describe_policy(org):
    policy_id = scp(org)
    p = org.describe_policy(PolicyId=policy_id)["Policy"]
    assert p["PolicySummary"]["Id"] == policy_id and json.loads(p["Content"]) == json.loads(SCP)


def test_update_policy(org):
    policy_id = scp(org)
    p = org.update_policy(PolicyId=policy_id, Name="renamed-" + policy_id, Description="new")["Policy"]
    assert (p["PolicySummary"]["Name"], p["PolicySummary"]["Description"]) == ("renamed-" + policy_id, "new")


def test_delete_policy(org):
    policy_id = scp(org)
    org.delete_policy(PolicyId=policy_id)
    with pytest.raises(ClientError) as e:
        org.describe_policy(PolicyId=policy_id)
    assert error_code(e) == "PolicyNotFoundException"


def test_list_targets_for_policy(org, root_id):
    policy_id = scp(org)
    ou = org.create_organizational_unit(ParentId=root_id, Name=name("ou"))["OrganizationalUnit"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId=ou)
    targets = org.list_targets_for_policy(PolicyId=policy_id)["Targets"]
    assert [(t["TargetId"], t["Type"]) for t in targets] == [(ou, "ORGANIZATIONAL_UNIT")]


def test_list_policies_for_target(org, root_id):
    policy_id = scp(org)
    ou = org.create_organizational_unit(ParentId=root_id, Name=name("ou"))["OrganizationalUnit"]["Id"]
    org.attach_policy(PolicyId=policy_id, TargetId=ou)
    ids = [p["Id"] for p in org.list_policies_for_target(TargetId=ou, Filter="SERVICE_CONTROL_POLICY")["Policies"]]
    assert policy_id in ids


def test_update_organizational_unit(org, root_id):
    ou = org.create_organizational_unit(ParentId=root_id, Name=name("ou"))["OrganizationalUnit"]["Id"]
    assert org.update_organizational_unit(OrganizationalUnitId=ou, Name="renamed")["OrganizationalUnit"]["Name"] == "renamed"


def test_delete_organizational_unit(org, root_id):
    ou = org.create_organizational_unit(ParentId=root_id, Name=name("ou"))["OrganizationalUnit"]["Id"]
    org.delete_organizational_unit(OrganizationalUnitId=ou)
    with pytest.raises(ClientError) as e:
        org.delete_organizational_unit(OrganizationalUnitId=ou)
    assert error_code(e) == "OrganizationalUnitNotFoundException"


def test_describe_account(org):
    account_id = org.create_account(AccountName="described", Email="x@example.com")["CreateAccountStatus"]["AccountId"]
    a = org.describe_account(AccountId=account_id)["Account"]
    assert (a["Id"], a["Name"], a["Status"]) == (account_id, "described", "ACTIVE")


def test_remove_account_from_organization(org):
    account_id = org.create_account(AccountName=name("acct"), Email="r@example.com")["CreateAccountStatus"]["AccountId"]
    org.remove_account_from_organization(AccountId=account_id)
    assert account_id not in [a["Id"] for a in org.list_accounts()["Accounts"]]


# ---- POST /v1/authorize ----

from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

import castellan_call  # noqa: E402

PDP = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "castellan:Authorize", "Resource": "*"}]})


@pytest.fixture(scope="module")
def pdp(iam):
    """Credentials of a service allowed castellan:Authorize."""
    n = name("pdp")
    iam.create_user(UserName=n)
    iam.put_user_policy(UserName=n, PolicyName="pdp", PolicyDocument=PDP)
    k = iam.create_access_key(UserName=n)["AccessKey"]
    return Credentials(k["AccessKeyId"], k["SecretAccessKey"])


def test_authorize_a_principal(iam, pdp, user, account):
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=READ)
    ask = {"principal": f"arn:aws:iam::{account}:user/{user}", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}
    status, d = castellan_call.call("/v1/authorize", ask, pdp)
    assert status == 200 and d["decision"] == "Allow" and d["allowed"] is True
    assert d["matchedStatements"][0]["policyId"].endswith("read") and d["deniedBy"] is None
    status, d = castellan_call.call("/v1/authorize", dict(ask, action="s3:PutObject"), pdp)
    assert (d["decision"], d["allowed"]) == ("ImplicitDeny", False) and "s3:PutObject" in d["message"]


def test_authorize_a_signed_request(iam, pdp, user):
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=READ)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    request = AWSRequest(method="GET", url="https://storage.example.com/b/k", data=b"")
    SigV4Auth(Credentials(k["AccessKeyId"], k["SecretAccessKey"]), "s3", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    headers["host"] = "storage.example.com"
    described = {"method": "GET", "path": "/b/k", "query": "", "headers": headers, "body": "", "service": "s3"}
    ask = {"request": described, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}
    status, d = castellan_call.call("/v1/authorize", ask, pdp)
    assert status == 200 and d["decision"] == "Allow" and d["principal"].endswith(f":user/{user}"), d
    tampered = dict(described, path="/b/other")
    status, d = castellan_call.call("/v1/authorize", dict(ask, request=tampered), pdp)
    assert (d["allowed"], d["authenticationError"]["code"]) == (False, "SignatureDoesNotMatch")


def test_authorize_needs_castellan_authorize(iam, user, account):
    k = iam.create_access_key(UserName=user)["AccessKey"]
    ask = {"principal": f"arn:aws:iam::{account}:root", "action": "s3:GetObject", "resource": "*"}
    status, d = castellan_call.call("/v1/authorize", ask, Credentials(k["AccessKeyId"], k["SecretAccessKey"]))
    assert (status, d["__type"]) == (403, "AccessDenied")


def test_authorize_refuses_a_session_arn(pdp, account):
    ask = {"principal": f"arn:aws:sts::{account}:assumed-role/r/s", "action": "s3:GetObject", "resource": "*"}
    status, d = castellan_call.call("/v1/authorize", ask, pdp)
    assert (status, d["__type"]) == (400, "InvalidInput")


@pytest.mark.parametrize("region,partition", [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_a_region_of_another_partition_sees_its_arns(region, partition, account):
    def regional(service):
        return boto3.client(service, endpoint_url=ENDPOINT, region_name=region, config=CONFIG)

    iam, sts = regional("iam"), regional("sts")
    assert sts.get_caller_identity()["Arn"] == f"arn:{partition}:iam::{account}:root"
    user = name("partition")
    assert iam.create_user(UserName=user)["User"]["Arn"] == f"arn:{partition}:iam::{account}:user/{user}"
    managed = f"arn:{partition}:iam::aws:policy/ReadOnlyAccess"
    iam.attach_user_policy(UserName=user, PolicyArn=managed)
    attached = iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [managed]
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                   "Resource": f"arn:{partition}:s3:::bucket/*"}]}
    iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(doc))
    assert iam.get_user_policy(UserName=user, PolicyName="read")["PolicyDocument"] == doc
    iam.detach_user_policy(UserName=user, PolicyArn=managed)
    iam.delete_user_policy(UserName=user, PolicyName="read")
    iam.delete_user(UserName=user)
