"""Writes two versions of a table with pyarrow, v1.parquet and v2.parquet in OUT, keyed by id:
v2 drops every 137th id, changes score on 1% of rows and name on 0.1%, adds new ids, shuffles the
row order and (unless SCHEMA_CHANGE=0) adds a column. Prints the expected row diff as JSON (the ids;
with COUNTS_ONLY=1 only their counts)."""
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

rows = int(os.environ.get("ROWS", "50000"))
out = os.environ["OUT"]
schema_change = os.environ.get("SCHEMA_CHANGE", "1") != "0"
counts_only = os.environ.get("COUNTS_ONLY") == "1"
group = int(os.environ.get("ROW_GROUP", "8192"))

i = np.arange(rows, dtype=np.int64)
names = pc.binary_join_element_wise("n", pc.cast(pa.array(i), pa.string()), "")
v1 = pa.table({"id": i, "name": names, "score": pa.array(i * 0.25, pa.float64())})
pq.write_table(v1, os.path.join(out, "v1.parquet"), row_group_size=group)

removed = i % 137 == 0
score_changed = (i % 100 == 1) & ~removed
name_changed = (i % 1000 == 2) & ~removed
score = np.where(score_changed, i * 0.25 + 1, i * 0.25)
name = pc.if_else(pa.array(name_changed), pc.binary_join_element_wise(names, "x", ""), names)
kept = ~removed
new_ids = np.arange(rows, rows + rows // 200, dtype=np.int64)
v2_id = np.concatenate([i[kept], new_ids])
v2_name = pa.concat_arrays([name.filter(pa.array(kept)), pc.binary_join_element_wise("new", pc.cast(pa.array(new_ids), pa.string()), "")])
v2_score = np.concatenate([score[kept], new_ids * 0.5])
order = np.random.default_rng(3).permutation(len(v2_id))
cols = {"id": pa.array(v2_id[order]), "name": v2_name.take(pa.array(order)), "score": pa.array(v2_score[order])}
if schema_change:
    cols["extra"] = pa.array(np.ones(len(v2_id), dtype=np.int32))
pq.write_table(pa.table(cols), os.path.join(out, "v2.parquet"), row_group_size=group)

changed = {}
for k in i[score_changed]:
    changed.setdefault(int(k), []).append("score")
for k in i[name_changed]:
    changed.setdefault(int(k), []).insert(0, "name")
result = {"removed": int(removed.sum()), "added": len(new_ids), "changed": len(changed), "unchanged": int(kept.sum()) - len(changed)}
if not counts_only:
    result.update(removedIds=[int(x) for x in i[removed]], addedIds=[int(x) for x in new_ids], changedIds={str(k): v for k, v in changed.items()})
print(json.dumps(result))
