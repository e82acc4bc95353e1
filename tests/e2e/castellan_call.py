"""Calls one of Castellan's own JSON endpoints (`/v1/authorize`, `/_castellan/clock`), SigV4-signed
for the service `castellan` with the credentials botocore finds (the environment, or
AWS_SHARED_CREDENTIALS_FILE), and prints the HTTP status and the JSON answer on one line each.

Usage: python3 castellan_call.py PATH JSON_BODY
"""

import json
import os
import sys
import urllib.error
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


def call(path, body, credentials=None, region="us-east-1"):
    """(status, answer) of a signed POST of `body` (a dict) to `path`."""
    endpoint = os.environ["CASTELLAN_ENDPOINT"]
    credentials = credentials or botocore.session.get_session().get_credentials()
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=endpoint + path, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, "castellan", region).add_auth(request)
    prepared = urllib.request.Request(request.url, data=data, headers=dict(request.headers.items()), method="POST")
    try:
        with urllib.request.urlopen(prepared) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


if __name__ == "__main__":
    status, answer = call(sys.argv[1], json.loads(sys.argv[2]))
    print(status)
    print(json.dumps(answer))
