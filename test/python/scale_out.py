"""Three `varve serve` instances over one S3 repository, behind HAProxy (round robin), driven with boto3
(issue 23): multipart uploads whose parts land on every instance, small puts, listings and commits racing
across them; one upload walked explicitly from instance to instance; then every acknowledged object is
read back from every instance. Prints one JSON document; any failed check raises (exit 1)."""
import hashlib
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "python", "src"))
from varve_client import Client, VarveError  # noqa: E402

proxy = os.environ["ENDPOINT"]
instances = os.environ["INSTANCES"].split(",")
bucket = os.environ["BUCKET"]
key, secret = os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"]
MiB = 1024 * 1024


def s3(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, max_pool_connections=32),
    )


def sha(b):
    return hashlib.sha256(b).hexdigest()


acked = {}  # key -> sha256 of what an instance acknowledged
lock = threading.Lock()
errors = []
seen = {"listings": 0, "commits": 0}
stop = threading.Event()


def multipart(i):
    body = os.urandom(23 * MiB + i * 1000)
    k = f"main/scale/multi-{i}.bin"
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    import io
    s3(proxy).upload_fileobj(io.BytesIO(body), bucket, k, Config=cfg)
    with lock:
        acked[k] = sha(body)


def small(t):
    c = s3(proxy)
    for j in range(40):
        body = os.urandom(1000 + j)
        k = f"main/scale/small-{t}-{j}.bin"
        c.put_object(Bucket=bucket, Key=k, Body=body)
        with lock:
            acked[k] = sha(body)


def lister():
    c = s3(proxy)
    while not stop.is_set():
        pages = c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="main/scale/", PaginationConfig={"PageSize": 17})
        for _ in pages:
            pass
        seen["listings"] += 1


def committer():
    api = Client(proxy, key, secret)
    while not stop.is_set():
        try:
            api.commit(bucket, "main", "racing commit")
            seen["commits"] += 1
        except VarveError as e:
            if e.code not in ("NOTHING_TO_COMMIT", "CONFLICT"):
                raise
        time.sleep(0.2)


def guarded(fn, *args):
    try:
        fn(*args)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        errors.append(f"{fn.__name__}{args}: {e!r}")


background = [threading.Thread(target=guarded, args=(f,)) for f in (lister, committer)]
for t in background:
    t.start()
with ThreadPoolExecutor(max_workers=10) as pool:
    futures = [pool.submit(guarded, multipart, i) for i in range(6)] + [pool.submit(guarded, small, t) for t in range(4)]
    for f in futures:
        f.result()
stop.set()
for t in background:
    t.join()
if errors:
    raise AssertionError("\n".join(errors))

# One upload walked by hand: created on instance 1, parts on 2 and 3 (the last first), listed on 1,
# completed on 2; another created on 3 and aborted on 1.
c1, c2, c3 = (s3(e) for e in instances)
k = "main/scale/walked.bin"
parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(777)]
up = c1.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]
e3 = c2.upload_part(Bucket=bucket, Key=k, UploadId=up, PartNumber=3, Body=parts[2])["ETag"]
e1 = c3.upload_part(Bucket=bucket, Key=k, UploadId=up, PartNumber=1, Body=parts[0])["ETag"]
e2 = c2.upload_part(Bucket=bucket, Key=k, UploadId=up, PartNumber=2, Body=parts[1])["ETag"]
listed = [p["PartNumber"] for p in c1.list_parts(Bucket=bucket, Key=k, UploadId=up)["Parts"]]
assert listed == [1, 2, 3], listed
c2.complete_multipart_upload(Bucket=bucket, Key=k, UploadId=up, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}, {"PartNumber": 3, "ETag": e3}]})
acked[k] = sha(b"".join(parts))
gone = c3.create_multipart_upload(Bucket=bucket, Key="main/scale/aborted.bin")["UploadId"]
c2.upload_part(Bucket=bucket, Key="main/scale/aborted.bin", UploadId=gone, PartNumber=1, Body=b"x")
c1.abort_multipart_upload(Bucket=bucket, Key="main/scale/aborted.bin", UploadId=gone)
try:
    c3.list_parts(Bucket=bucket, Key="main/scale/aborted.bin", UploadId=gone)
    raise AssertionError("an aborted upload still lists parts")
except ClientError as e:
    assert e.response["Error"]["Code"] == "NoSuchUpload", e.response

try:
    Client(proxy, key, secret).commit(bucket, "main", "the rest")
except VarveError as e:
    if e.code != "NOTHING_TO_COMMIT":
        raise

# Every acknowledged object, from every instance: listed, and its bytes.
for e in instances:
    c = s3(e)
    keys = set()
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="main/scale/"):
        keys.update(o["Key"] for o in page.get("Contents", []))
    missing = set(acked) - keys
    assert not missing, f"{e} does not list {sorted(missing)[:5]}"
    assert "main/scale/aborted.bin" not in keys
    for k2, digest in acked.items():
        got = sha(c.get_object(Bucket=bucket, Key=k2)["Body"].read())
        assert got == digest, f"{e} serves other bytes for {k2}"

print(json.dumps({"acknowledged": len(acked), "listings": seen["listings"], "commits": seen["commits"]}))
