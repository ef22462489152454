"""Parquet files from pyarrow with the values issue 11 found contracts getting wrong.

Writes into $FIXTURES and prints {"files": [...]}. Each file is what a real writer produces; the
test reads it through Varve's contracts.
"""
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

out = os.environ["FIXTURES"]
written = []


def write(name, table, **kwargs):
    pq.write_table(table, os.path.join(out, name), **kwargs)
    written.append(name)


# timestamps 1 ns apart: distinct values (compared as float milliseconds they were "duplicates")
write("ts_ns.parquet", pa.table({"ts": pa.array([1_700_000_000_000_000_001, 1_700_000_000_000_000_002], pa.timestamp("ns"))}))
# the same instant twice: a real duplicate
write("ts_dup.parquet", pa.table({"ts": pa.array([5, 5], pa.timestamp("ns", tz="UTC"))}))
# ['a,b'] and ['a', 'b'] differ (joined as strings they were equal); ['x'] twice is a duplicate
write("lists.parquet", pa.table({"tags": pa.array([["a,b"], ["a", "b"], ["a", "b", None], None], pa.list_(pa.string()))}))
write("lists_dup.parquet", pa.table({"tags": pa.array([["x"], ["y"], ["x"]], pa.list_(pa.string()))}))
# decimals that float64 cannot tell apart
write("decimals.parquet", pa.table({"d": pa.array([pa.scalar(12345678901234567890123, pa.decimal128(38, 0)).as_py(), pa.scalar(12345678901234567890124, pa.decimal128(38, 0)).as_py()], pa.decimal128(38, 0))}))
# structs equal field by field are duplicates; dictionary-encoded strings compare by value
write("structs_dup.parquet", pa.table({"st": pa.array([{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "x"}], pa.struct([("a", pa.int32()), ("b", pa.string())]))}))
write("dict.parquet", pa.table({"c": pa.array(["p", "q", "r"]).dictionary_encode()}))

# nested columns: a struct with one null of four, a list whose elements hold nulls but which is never
# null itself, a map; and a flat column
nested = pa.table({
    "id": pa.array([1, 2, 3, 4], pa.int64()),
    "st": pa.array([{"a": 1, "b": "x"}, None, {"a": None, "b": None}, {"a": 4, "b": "w"}], pa.struct([("a", pa.int32()), ("b", pa.string())])),
    "lst": pa.array([[1, None], [], [None], [4]], pa.list_(pa.int32())),
    "m": pa.array([[("k", 1)], [("k", None)], [], [("z", 3)]], pa.map_(pa.string(), pa.int32())),
})
write("nested.parquet", nested)
# no rows at all (optional columns, nothing in them)
write("empty.parquet", nested.slice(0, 0))

# one column of each type a contract can name precisely
types = pa.table({
    "ts_ms": pa.array([1], pa.timestamp("ms")),
    "ts_us_utc": pa.array([1], pa.timestamp("us", tz="UTC")),
    "ts_ns_paris": pa.array([1], pa.timestamp("ns", tz="Europe/Paris")),
    "d": pa.array([1], pa.decimal128(10, 2)),
    "big": pa.array([1], pa.decimal256(40, 2)),
    "li": pa.array([[1]], pa.list_(pa.int32())),
    "ls": pa.array([["a"]], pa.list_(pa.string())),
    "st": pa.array([{"a": 1, "b": "x"}], pa.struct([("a", pa.int32()), ("b", pa.string())])),
    "m": pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int32())),
    "t32": pa.array([1], pa.time32("ms")),
    "t64": pa.array([1], pa.time64("us")),
    "dt": pa.array([1], pa.date32()),
    "u": pa.array([1], pa.uint16()),
    "fx": pa.array([b"abcd"], pa.binary(4)),
    "s": pa.array(["x"], pa.string()),
})
write("types.parquet", types)

# INTERVAL (months, days, milliseconds): DuckDB writes it, pyarrow cannot
import duckdb  # noqa: E402

duckdb.sql(f"""COPY (SELECT * FROM (VALUES (1, INTERVAL '14 months 2 days 3 seconds'), (2, NULL), (3, INTERVAL '1 day'), (4, INTERVAL '2 days 3 seconds'))
    t(id, iv)) TO '{os.path.join(out, "interval.parquet")}' (FORMAT parquet)""")
written.append("interval.parquet")

print(json.dumps({"files": written}))
