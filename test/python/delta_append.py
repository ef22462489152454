# One delta-rs writer: appends rows to a Delta table through varve serve, each append a Delta commit
# (delta-rs creates _delta_log/<version>.json with If-None-Match: *, retrying on 412 as it does on S3).
#   env: ENDPOINT, KEY, SECRET, TABLE (s3://<repo>/<branch>/<path>), WRITER, APPENDS; prints JSON.
import json
import os
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

opts = {
    "AWS_ENDPOINT_URL": os.environ["ENDPOINT"], "AWS_ACCESS_KEY_ID": os.environ["KEY"], "AWS_SECRET_ACCESS_KEY": os.environ["SECRET"],
    "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true", "conditional_put": "etag",
}
table = os.environ["TABLE"]
writer = int(os.environ.get("WRITER", "-1"))
if writer < 0:  # read the table back
    dt = DeltaTable(table, storage_options=opts)
    t = dt.to_pyarrow_table()
    out = {"version": dt.version(), "rows": sorted(zip(t.column("writer").to_pylist(), t.column("i").to_pylist()))}
else:
    appended = []
    for i in range(int(os.environ["APPENDS"])):
        write_deltalake(table, pa.table({"writer": pa.array([writer], pa.int64()), "i": pa.array([i], pa.int64())}), mode="append", storage_options=opts)
        appended.append(i)
    out = {"writer": writer, "appended": appended}
sys.stdout.write(json.dumps(out))
sys.stdout.flush()
# delta-rs's runtime can abort while the interpreter tears down; the work is done and reported
os._exit(0)
