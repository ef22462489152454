"""Writes a 10M-row Parquet file with pyarrow (an int64 and a text column, 10 row groups) for the
bounded-memory tests and benchmarks of issue 11. The last row repeats the id of row 4,321,987; every
name is different. Prints {"file", "rows", "duplicate"} as JSON."""
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

rows = int(os.environ.get("ROWS", "10000000"))
out = os.environ["OUT"]
ids = np.arange(rows, dtype=np.int64) * 7 + 3
np.random.default_rng(11).shuffle(ids)
duplicate = int(ids[4_321_987 % rows])
ids[-1] = duplicate
names = pc.binary_join_element_wise("user-", pc.cast(pa.array(np.arange(rows, dtype=np.int64)), pa.string()), "")
pq.write_table(pa.table({"id": ids, "name": names}), out, row_group_size=1024 * 1024)
print(json.dumps({"file": out, "rows": rows, "duplicate": duplicate}))
