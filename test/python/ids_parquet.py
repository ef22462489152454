"""Writes $OUT: a Parquet file of $ROWS rows (id, score) written by DuckDB, row groups of 50k rows,
large enough to be read by ranges. Prints {"rows": N}."""
import json
import os

import duckdb

rows = int(os.environ["ROWS"])
duckdb.connect().execute(
    f"COPY (SELECT i AS id, (i * 7919 % 1000) / 10.0 AS score FROM range({rows}) t(i)) TO '{os.environ['OUT']}' (FORMAT parquet, ROW_GROUP_SIZE 50000)"
)
print(json.dumps({"rows": rows}))
