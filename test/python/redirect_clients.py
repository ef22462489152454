"""Clients reading through `varve serve` with `reads: redirect` (issue 23): pyarrow and polars (which
follow the gateway's 307 to a presigned URL of the bucket) and boto3, s3fs and DuckDB (proxied: the first
two do not follow, DuckDB sends the gateway's Authorization on to the bucket) read a large Parquet file and a large binary (whole and by range) of a pinned commit; each
must get exactly the bytes and rows. Prints one JSON document; any failed check raises (exit 1)."""
import hashlib
import json
import os

import boto3
import duckdb
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import s3fs
from botocore.config import Config

endpoint = os.environ["ENDPOINT"]
bucket = os.environ["BUCKET"]
commit = os.environ["COMMIT"]
key, secret = os.environ["ADMIN_KEY"], os.environ["ADMIN_SECRET"]
want_bin = os.environ["BIN_SHA256"]
rows = int(os.environ["ROWS"])
seen = {}

s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
body = s3.get_object(Bucket=bucket, Key=f"{commit}/big.bin")["Body"].read()
assert hashlib.sha256(body).hexdigest() == want_bin, "boto3 whole GET"
part = s3.get_object(Bucket=bucket, Key=f"{commit}/big.bin", Range="bytes=1000-1999")["Body"].read()
assert part == body[1000:2000], "boto3 ranged GET"
seen["boto3"] = len(body)

host = endpoint.split("://", 1)[1]
fs = pafs.S3FileSystem(endpoint_override=host, scheme="http", access_key=key, secret_key=secret, region="us-east-1")
table = pq.read_table(f"{bucket}/{commit}/data.parquet", filesystem=fs)
assert table.num_rows == rows, table.num_rows
with fs.open_input_file(f"{bucket}/{commit}/big.bin") as f:
    assert hashlib.sha256(f.read()).hexdigest() == want_bin, "pyarrow whole read"
seen["pyarrow"] = table.num_rows

con = duckdb.connect()
# httpfs from its PyPI wheel (duckdb-extension-httpfs), loaded by path: no download at run time
import duckdb_extension_httpfs  # noqa: E402

con.execute("LOAD '%s'" % os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions", "v" + duckdb.__version__, "httpfs.duckdb_extension"))
con.execute(f"SET s3_endpoint='{host}'; SET s3_url_style='path'; SET s3_use_ssl=false; SET s3_region='us-east-1';"
            f"SET s3_access_key_id='{key}'; SET s3_secret_access_key='{secret}'")
n = con.execute(f"SELECT count(*), sum(id) FROM read_parquet('s3://{bucket}/{commit}/data.parquet')").fetchone()
assert n[0] == rows, n
seen["duckdb"] = n[0]

fs2 = s3fs.S3FileSystem(key=key, secret=secret, client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"})
with fs2.open(f"{bucket}/{commit}/big.bin", "rb") as f:
    assert hashlib.sha256(f.read()).hexdigest() == want_bin, "s3fs whole read"
seen["s3fs"] = True
import polars  # noqa: E402

df = polars.read_parquet(f"s3://{bucket}/{commit}/data.parquet", storage_options={
    "aws_endpoint_url": endpoint, "aws_access_key_id": key, "aws_secret_access_key": secret, "aws_region": "us-east-1", "aws_allow_http": "true"})
assert df.height == rows, df.height
seen["polars"] = df.height
print(json.dumps(seen))
