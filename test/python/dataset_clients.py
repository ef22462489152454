"""The data tools against `varve serve` (issue 12), with no Varve code on their side:
- pyarrow writes a hive-partitioned Parquet dataset, boto3 uploads it to main, the HTTP API commits;
- pyarrow.dataset over S3FileSystem reads it back at the pinned commit id (rows and partition columns);
- DuckDB (httpfs) reads the same commit with read_parquet(..., hive_partitioning=true);
- pandas + s3fs reads main's folder and writes a file onto a branch; the HTTP API commits it, and the
  log shows it;
- the AWS CLI lists and copies.
Prints one JSON document of what it saw; any failed check raises (exit 1)."""
import base64
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import boto3
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from botocore.config import Config

endpoint = os.environ["ENDPOINT"]
bucket = os.environ["BUCKET"]
key, secret = os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"]
host_port = endpoint.split("://", 1)[1]
seen = {}


def api(method, path, body=None):
    req = urllib.request.Request(endpoint + "/api/v1" + path, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Authorization", "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode())
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as r:
        return json.load(r)


# 1. a hive-partitioned dataset written by pyarrow, uploaded with boto3, committed through the API
table = pa.table({"id": pa.array(range(3000), pa.int64()), "score": pa.array([i / 3000 for i in range(3000)], pa.float64()), "day": [f"2026-11-{1 + i % 3:02d}" for i in range(3000)]})
local = tempfile.mkdtemp()
pq.write_to_dataset(table, os.path.join(local, "train"), partition_cols=["day"])
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
uploaded = []
for root, _, files in os.walk(local):
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), local).replace(os.sep, "/")
        s3.upload_file(os.path.join(root, f), bucket, f"main/{rel}")
        uploaded.append(rel)
commit = api("POST", "/repositories/%s/branches/main/commits" % bucket, {"message": "train data from pyarrow", "metadata": {"tool": "pyarrow"}})
pin = commit["id"]
seen["commit"] = pin
seen["uploaded"] = len(uploaded)

# 2. pyarrow.dataset at the pinned commit id
fs = pafs.S3FileSystem(endpoint_override=host_port, scheme="http", access_key=key, secret_key=secret, region="us-east-1", allow_bucket_creation=False)
dataset = ds.dataset(f"{bucket}/{pin}/train", filesystem=fs, format="parquet", partitioning="hive")
read = dataset.to_table().sort_by("id")
assert read.num_rows == 3000, read.num_rows
assert read.column("id").to_pylist() == list(range(3000))
assert [str(d) for d in read.column("day").to_pylist()] == table.column("day").to_pylist()
seen["pyarrow_rows"] = read.num_rows

# 3. DuckDB httpfs over the same commit
con = duckdb.connect()
# httpfs from its PyPI wheel (duckdb-extension-httpfs), loaded by path: no download at run time
import duckdb_extension_httpfs

con.execute("LOAD '%s'" % os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions", "v" + duckdb.__version__, "httpfs.duckdb_extension"))
con.execute(f"SET s3_endpoint='{host_port}'; SET s3_use_ssl=false; SET s3_url_style='path'; SET s3_region='us-east-1'; SET s3_access_key_id='{key}'; SET s3_secret_access_key='{secret}';")
rows, days, total = con.execute(f"SELECT count(*), count(DISTINCT day), sum(id) FROM read_parquet('s3://{bucket}/{pin}/train/**/*.parquet', hive_partitioning=true)").fetchone()
assert (rows, days, total) == (3000, 3, sum(range(3000))), (rows, days, total)
seen["duckdb"] = [rows, days]

# 4. pandas + s3fs: read main's folder, write onto a branch, commit it through the API
api("POST", "/repositories/%s/branches" % bucket, {"name": "features", "from": "main"})
opts = {"key": key, "secret": secret, "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}
df = pd.read_parquet(f"s3://{bucket}/main/train/", storage_options=opts)
assert len(df) == 3000, len(df)
df["score2"] = df["score"] * 2
df.to_parquet(f"s3://{bucket}/features/derived/scores.parquet", storage_options=opts)
c2 = api("POST", "/repositories/%s/branches/features/commits" % bucket, {"message": "derived scores from pandas"})
log = api("GET", "/repositories/%s/log?ref=features&limit=5" % bucket)
assert log["commits"][0]["id"] == c2["id"] and log["commits"][0]["message"] == "derived scores from pandas"
back = pd.read_parquet(f"s3://{bucket}/{c2['id']}/derived/scores.parquet", storage_options=opts)
assert len(back) == 3000 and abs(back["score2"].sum() - 2 * df["score"].sum()) < 1e-6
seen["pandas_rows"] = len(back)

# 5. the AWS CLI
env = {**os.environ, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1"}
aws = os.path.join(os.path.dirname(sys.executable), "aws")
ls = subprocess.run([aws, "--endpoint-url", endpoint, "s3", "ls", f"s3://{bucket}/{pin}/train/"], env=env, check=True, capture_output=True, text=True).stdout
assert "PRE day=2026-11-01/" in ls, ls
dest = os.path.join(local, "via-cli.parquet")
first = sorted(uploaded)[0]
subprocess.run([aws, "--endpoint-url", endpoint, "s3", "cp", f"s3://{bucket}/{pin}/{first}", dest], env=env, check=True, capture_output=True)
assert pq.read_table(dest).num_rows > 0
subprocess.run([aws, "--endpoint-url", endpoint, "s3", "cp", dest, f"s3://{bucket}/features/cli/copy.parquet"], env=env, check=True, capture_output=True)
seen["aws_cli"] = True

json.dump(seen, sys.stdout)
