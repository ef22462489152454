"""Writes the same 20,000-row table (id, name with nulls, score, day, tags) with every writer and
option a user meets: pyarrow with data page v1 and v2, each compression codec, dictionary on and
off, 100-row groups; DuckDB; polars; pandas through fastparquet. Prints {"files", "rows", "idSum",
"names"} as JSON: what each file must read back as."""
import json
import os

import duckdb
import fastparquet
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

out = os.environ["OUT"]
n = 20_000
ids = list(range(n))
table = pa.table({
    "id": pa.array(ids, pa.int64()),
    "name": pa.array([None if i % 11 == 0 else f"name-{i % 500}" for i in ids], pa.string()),
    "score": pa.array([i / 8 for i in ids], pa.float64()),
    "day": pa.array([f"2026-11-{1 + i % 28:02d}" for i in ids], pa.string()),
})
files = []


def put(name, write):
    write(os.path.join(out, name))
    files.append(name)


for version in ["1.0", "2.0"]:
    for codec in ["none", "snappy", "gzip", "zstd", "brotli", "lz4"]:
        put(f"pyarrow-v{version[0]}-{codec}.parquet", lambda p, v=version, c=codec: pq.write_table(table, p, data_page_version=v, compression=c))
put("pyarrow-plain.parquet", lambda p: pq.write_table(table, p, use_dictionary=False))
put("pyarrow-groups.parquet", lambda p: pq.write_table(table, p, row_group_size=100))
put("pyarrow-v1-format.parquet", lambda p: pq.write_table(table, p, version="1.0"))
duckdb.register("t", table)
put("duckdb.parquet", lambda p: duckdb.sql(f"COPY t TO '{p}' (FORMAT parquet, ROW_GROUP_SIZE 4096)"))
put("polars.parquet", lambda p: pl.from_arrow(table).write_parquet(p, row_group_size=3000))
put("fastparquet.parquet", lambda p: fastparquet.write(p, table.to_pandas(), row_group_offsets=5000, compression="SNAPPY"))
put("pandas.parquet", lambda p: table.to_pandas().to_parquet(p, index=False))
print(json.dumps({"files": files, "rows": n, "idSum": sum(ids), "names": sum(1 for i in ids if i % 11)}))
