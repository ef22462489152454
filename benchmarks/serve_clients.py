"""One side of benchmarks/serve.mjs's Python rows: pyarrow reads the whole 1 GiB object (as a stream: it
asks for 256 KiB ranges, each redirected on its own) and a Parquet file as a table, DuckDB sums a column of
it, boto3 reads the 1 GiB object, from $ENDPOINT/$BUCKET/$PREFIX. Prints the seconds each took as JSON."""
import json
import os
import time

import boto3
import duckdb
import duckdb_extension_httpfs
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from botocore.config import Config

endpoint, bucket, prefix = os.environ["ENDPOINT"], os.environ["BUCKET"], os.environ["PREFIX"]
key, secret, size = os.environ["KEY"], os.environ["SECRET"], int(os.environ["SIZE"])
host = endpoint.split("://", 1)[1]
out = {}

fs = pafs.S3FileSystem(endpoint_override=host, scheme="http", access_key=key, secret_key=secret, region="us-east-1")
t0 = time.perf_counter()
n = 0
with fs.open_input_stream(f"{bucket}/{prefix}{os.environ['BIG']}") as f:
    while True:
        b = f.read(8 * 1024 * 1024)
        if not b:
            break
        n += len(b)
assert n == size, n
out["pyarrow: 1 GiB object (256 KiB ranges)"] = time.perf_counter() - t0

t0 = time.perf_counter()
table = pq.read_table(f"{bucket}/{prefix}{os.environ['PARQUET']}", filesystem=fs)
assert table.num_rows == 20_000_000, table.num_rows
out["pyarrow: read_table of the Parquet file"] = time.perf_counter() - t0

con = duckdb.connect()
con.execute("LOAD '%s'" % os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions", "v" + duckdb.__version__, "httpfs.duckdb_extension"))
con.execute(f"SET s3_endpoint='{host}'; SET s3_url_style='path'; SET s3_use_ssl=false; SET s3_region='us-east-1'; SET s3_access_key_id='{key}'; SET s3_secret_access_key='{secret}'")
t0 = time.perf_counter()
rows, total = con.execute(f"SELECT count(*), sum(score) FROM read_parquet('s3://{bucket}/{prefix}{os.environ['PARQUET']}')").fetchone()
assert rows == 20_000_000, rows
out["DuckDB: sum over Parquet"] = time.perf_counter() - t0

s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
t0 = time.perf_counter()
body = s3.get_object(Bucket=bucket, Key=f"{prefix}{os.environ['BIG']}")["Body"]
n = 0
for chunk in body.iter_chunks(8 * 1024 * 1024):
    n += len(chunk)
assert n == size, n
out["boto3 (proxied: it does not follow redirects): 1 GiB object"] = time.perf_counter() - t0
print(json.dumps(out))
