"""boto3 against `varve serve` (issue 12): list, get with ranges, put, multipart (100 MiB), delete, copy,
presigned GET; a wrong secret is SignatureDoesNotMatch; a read-only key cannot put. Prints one JSON
document of what it saw; any failed check raises (exit 1)."""
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint = os.environ["ENDPOINT"]
bucket = os.environ["BUCKET"]


def client(key, secret, **config):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **config),
    )


def error_code(fn):
    try:
        fn()
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("expected an error")


s3 = client(os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"])
seen = {}

seen["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
assert bucket in seen["buckets"], seen

body = b"0123456789abcdef" * 64
put = s3.put_object(Bucket=bucket, Key="main/raw/small.bin", Body=body, ContentType="application/x-test", Metadata={"source": "boto3"})
assert put["ETag"] == '"%s"' % hashlib.sha256(body).hexdigest(), put["ETag"]
got = s3.get_object(Bucket=bucket, Key="main/raw/small.bin")
assert got["Body"].read() == body
assert got["ContentType"] == "application/x-test" and got["Metadata"] == {"source": "boto3"}, got
assert s3.get_object(Bucket=bucket, Key="main/raw/small.bin", Range="bytes=16-31")["Body"].read() == body[16:32]
assert s3.get_object(Bucket=bucket, Key="main/raw/small.bin", Range="bytes=-5")["Body"].read() == body[-5:]
assert error_code(lambda: s3.get_object(Bucket=bucket, Key="main/raw/small.bin", Range="bytes=99999-")) == "InvalidRange"
head = s3.head_object(Bucket=bucket, Key="main/raw/small.bin")
assert head["ContentLength"] == len(body)
assert error_code(lambda: s3.head_object(Bucket=bucket, Key="main/raw/nope.bin")) in ("404", "NoSuchKey")
assert error_code(lambda: s3.get_object(Bucket=bucket, Key="main/raw/nope.bin")) == "NoSuchKey"
assert error_code(lambda: s3.get_object(Bucket="no-such-repo", Key="main/x")) == "NoSuchBucket"

# multipart: 100 MiB in 8 MiB parts through the transfer manager, as `upload_file` does for big files
big_path = os.path.join(os.environ["WORK"], "big.bin")
block = hashlib.sha256(b"seed").digest() * (1024 * 1024 // 32)
with open(big_path, "wb") as f:
    for i in range(100):
        f.write(bytes([i]) + block[1:])
cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=4)
s3.upload_file(big_path, bucket, "main/raw/big.bin", Config=cfg)
h = hashlib.sha256()
with open(big_path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
big_head = s3.head_object(Bucket=bucket, Key="main/raw/big.bin")
assert big_head["ContentLength"] == 100 * 1024 * 1024 and big_head["ETag"] == '"%s"' % h.hexdigest(), big_head
down = os.path.join(os.environ["WORK"], "big.down")
s3.download_file(bucket, "main/raw/big.bin", down, Config=cfg)  # ranged GETs in parallel
h2 = hashlib.sha256()
with open(down, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h2.update(chunk)
assert h2.hexdigest() == h.hexdigest()
seen["multipart"] = big_head["ContentLength"]

# an aborted upload stages nothing
mp = s3.create_multipart_upload(Bucket=bucket, Key="main/raw/aborted.bin")
s3.upload_part(Bucket=bucket, Key="main/raw/aborted.bin", UploadId=mp["UploadId"], PartNumber=1, Body=b"x" * 1024)
assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="main/raw/aborted.bin", UploadId=mp["UploadId"])["Parts"]] == [1]
s3.abort_multipart_upload(Bucket=bucket, Key="main/raw/aborted.bin", UploadId=mp["UploadId"])
assert error_code(lambda: s3.head_object(Bucket=bucket, Key="main/raw/aborted.bin")) in ("404", "NoSuchKey")

# copy (same address: nothing copied), delete, delete_objects
copy = s3.copy_object(Bucket=bucket, Key="main/raw/copy.bin", CopySource={"Bucket": bucket, "Key": "main/raw/small.bin"})
assert copy["CopyObjectResult"]["ETag"] == put["ETag"]
s3.delete_object(Bucket=bucket, Key="main/raw/copy.bin")
assert error_code(lambda: s3.head_object(Bucket=bucket, Key="main/raw/copy.bin")) in ("404", "NoSuchKey")
s3.put_object(Bucket=bucket, Key="main/raw/d1", Body=b"1")
s3.put_object(Bucket=bucket, Key="main/raw/d2", Body=b"2")
res = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "main/raw/d1"}, {"Key": "main/raw/d2"}]})
assert sorted(d["Key"] for d in res["Deleted"]) == ["main/raw/d1", "main/raw/d2"], res

# listing with pagination
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="main/raw/", PaginationConfig={"PageSize": 1}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert keys == ["main/raw/big.bin", "main/raw/small.bin"], keys
tops = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
assert "main/" in [p["Prefix"] for p in tops.get("CommonPrefixes", [])], tops
v1 = s3.list_objects(Bucket=bucket, Prefix="main/raw/", Delimiter="/")
assert [o["Key"] for o in v1["Contents"]] == keys
seen["keys"] = keys

# presigned GET, and an expired one
# (boto3's default presigned form is the older query signature; signature_version='s3v4' gives SigV4)
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "main/raw/small.bin"}, ExpiresIn=300)
assert urllib.request.urlopen(url).read() == body
v4 = client(os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"], signature_version="s3v4")
url4 = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "main/raw/small.bin", "ResponseContentType": "text/x-test"}, ExpiresIn=300)
assert "X-Amz-Signature=" in url4
with urllib.request.urlopen(url4) as r:
    assert r.read() == body and r.headers["Content-Type"] == "text/x-test"
expired = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "main/raw/small.bin"}, ExpiresIn=1)
import time

time.sleep(2.1)
try:
    urllib.request.urlopen(expired)
    raise AssertionError("an expired URL was served")
except urllib.error.HTTPError as e:
    assert e.code == 403 and b"AccessDenied" in e.read()

# a wrong secret, a read-only key, writes to a tag
assert error_code(lambda: client(os.environ["ADMIN_KEY"], "wrong-secret").list_buckets()) == "SignatureDoesNotMatch"
reader = client(os.environ["READER_KEY"], os.environ["READER_SECRET"])
assert reader.get_object(Bucket=bucket, Key="main/raw/small.bin")["Body"].read() == body
assert error_code(lambda: reader.put_object(Bucket=bucket, Key="main/raw/nope.bin", Body=b"x")) == "AccessDenied"
assert error_code(lambda: s3.put_object(Bucket=bucket, Key="v0/raw/nope.bin", Body=b"x")) == "AccessDenied"

# payload modes the SDK picks: with checksums off, a signed body hash (over http)
plain = client(os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"], request_checksum_calculation="when_required")
plain.put_object(Bucket=bucket, Key="main/raw/signed.bin", Body=b"signed body")
assert plain.get_object(Bucket=bucket, Key="main/raw/signed.bin")["Body"].read() == b"signed body"
s3.delete_object(Bucket=bucket, Key="main/raw/signed.bin")

json.dump(seen, sys.stdout)
