"""Writes $OUT: an S3 Inventory report file in Parquet, with the column names and types AWS
documents for Parquet inventories (bucket, key, version_id, is_latest, is_delete_marker, size,
last_modified_date as timestamp[ms], e_tag), from the JSON rows in $ROWS, written by pyarrow in
row groups of $GROUP rows. Prints {"rows": N}."""
import datetime
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

rows = json.loads(os.environ["ROWS"])
schema = pa.schema(
    [
        ("bucket", pa.string()),
        ("key", pa.string()),
        ("version_id", pa.string()),
        ("is_latest", pa.bool_()),
        ("is_delete_marker", pa.bool_()),
        ("size", pa.int64()),
        ("last_modified_date", pa.timestamp("ms")),
        ("e_tag", pa.string()),
    ]
)
columns = {name: [] for name in schema.names}
for r in rows:
    for name in schema.names:
        v = r.get(name)
        if name == "last_modified_date" and v is not None:
            v = datetime.datetime.fromtimestamp(v / 1000, tz=datetime.timezone.utc).replace(tzinfo=None)
        columns[name].append(v)
table = pa.table(columns, schema=schema)
pq.write_table(table, os.environ["OUT"], row_group_size=int(os.environ.get("GROUP", "2")))
print(json.dumps({"rows": len(rows)}))
