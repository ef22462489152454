"""Writes a Hive-partitioned Parquet dataset with pyarrow (split=/year= folders, small row groups,
a _SUCCESS marker and a value needing URL encoding) into OUT, and prints what pyarrow.dataset reads
back: rows, and per partition the row count and the sum of x."""
import json
import os

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

out = os.environ["OUT"]
n = 30_000
table = pa.table({
    "id": pa.array(range(n), pa.int64()),
    "x": pa.array([i * 0.5 for i in range(n)], pa.float64()),
    "label": pa.array([f"l{i % 7}" for i in range(n)]),
    "split": pa.array(["train" if i % 10 < 8 else "test" for i in range(n)]),
    "year": pa.array([str(2023 + i % 3) for i in range(n)]),
    "region": pa.array(["eu/west" if i % 2 else "us east" for i in range(n)]),
})
pq.write_to_dataset(table, out, partition_cols=["split", "year", "region"], row_group_size=1000, max_rows_per_group=1000)
open(os.path.join(out, "_SUCCESS"), "w").close()
back = ds.dataset(out, partitioning="hive").to_table()
groups = back.group_by(["split", "year", "region"]).aggregate([("x", "sum"), ("id", "count")])
print(json.dumps({
    "rows": back.num_rows,
    "files": sorted(os.path.relpath(os.path.join(d, f), out) for d, _, fs in os.walk(out) for f in fs),
    "groups": sorted([[r["split"], str(r["year"]), r["region"], r["id_count"], r["x_sum"]] for r in groups.to_pylist()]),
}))
