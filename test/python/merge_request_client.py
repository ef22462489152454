"""A review bot in Python against `varve serve` (issue 13), with boto3 and the standard library only:
a change uploaded with boto3 to a branch, committed and proposed through the JSON API, refused
without approval, approved by the reviewer's key (not by the author's), shown with its gate results,
merged. Prints one JSON document of what it saw; any failed check raises (exit 1)."""
import base64
import json
import os
import urllib.error
import urllib.request

import boto3
from botocore.config import Config

endpoint = os.environ["ENDPOINT"]
bucket = os.environ["BUCKET"]
admin = (os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"])
reviewer = (os.environ["REVIEWER_KEY"], os.environ["REVIEWER_SECRET"])


def api(method, route, body=None, who=admin):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{endpoint}/api/v1/repositories/{bucket}{route}", data=data, method=method)
    req.add_header("Authorization", "Basic " + base64.b64encode(f"{who[0]}:{who[1]}".encode()).decode())
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=admin[0], aws_secret_access_key=admin[1],
                  region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

status, _ = api("POST", "/branches", {"name": "py-change", "from": "reviewed"})
assert status == 201, status
s3.put_object(Bucket=bucket, Key="py-change/labels/fix.csv", Body=b"id,label\n1,cat\n")
status, commit = api("POST", "/branches/py-change/commits", {"message": "fix labels"})
assert status == 201, (status, commit)

status, refused = api("POST", "/merges", {"source": "py-change", "dest": "reviewed"})
assert status == 403 and refused["error"]["code"] == "APPROVAL_REQUIRED", (status, refused)

status, mr = api("POST", "/merge-requests", {"source": "py-change", "dest": "reviewed", "title": "Fix labels"})
assert status == 201, (status, mr)
status, self_approval = api("POST", f"/merge-requests/{mr['id']}/approvals", {})
assert status == 403, (status, self_approval)  # the admin key may not approve (no approve action)
status, approved = api("POST", f"/merge-requests/{mr['id']}/approvals", {"head": mr["sourceHead"]}, who=reviewer)
assert status == 201, (status, approved)
status, comment = api("POST", f"/merge-requests/{mr['id']}/comments", {"text": "labels look right", "path": "labels/fix.csv"}, who=reviewer)
assert status == 201, (status, comment)
status, shown = api("GET", f"/merge-requests/{mr['id']}", who=reviewer)
assert status == 200 and shown["mergeable"] is True, shown
status, merged = api("POST", f"/merge-requests/{mr['id']}/merge", {})
assert status == 200, (status, merged)

obj = s3.get_object(Bucket=bucket, Key="reviewed/labels/fix.csv")["Body"].read()
print(json.dumps({
    "refused": refused["error"]["code"],
    "gates": shown["gates"]["status"],
    "approvers": merged["commit"]["metadata"]["varve.merge-request.approvers"],
    "request": merged["commit"]["metadata"]["varve.merge-request"],
    "state": merged["request"]["state"],
    "history": [e["operation"] for e in shown["history"]],
    "merged_bytes": obj.decode(),
}))
