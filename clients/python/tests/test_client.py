"""The client against a real varve serve: branches, writes through varve:// (fsspec), commits, paged
diffs, row diffs, merges and their refusals, merge requests with a reviewer key, pins in varve.lock,
and reads of a pinned commit with pandas, pyarrow, DuckDB, polars and Hugging Face datasets."""

from __future__ import annotations

import json

import duckdb
import fsspec
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pytest
from datasets import load_dataset

from conftest import Served, varve
from varve_client import Client, VarveError, read_lock


def opts(s: Served, key: str = "etl", secret: str = "etl-secret") -> dict:
    return {"endpoint": s.url, "key": key, "secret": secret}


def test_branches_writes_commits_diffs_and_row_diffs(served: Served) -> None:
    c = served.client()
    assert c.repositories() == ["lake"]
    c.create_branch("lake", "features")
    assert {b["name"] for b in c.branches("lake")} >= {"main", "features"}
    for day in (1, 2, 3):
        df = pd.DataFrame({"id": [day * 10 + i for i in range(5)], "score": [i / 5 for i in range(5)]})
        df.to_parquet(f"varve://lake/features/train/day={day}/part-0.parquet", storage_options=opts(served))
    staged = c.uncommitted("lake", "features")
    assert [x["path"] for x in staged] == [f"train/day={d}/part-0.parquet" for d in (1, 2, 3)]
    first = c.commit("lake", "features", "three days", author="ana", metadata={"job": "etl-7"})
    assert first["author"] == "ana" and first["committer"] == "etl"  # the key commits; the body names the author
    # a page of one path at a time, three pages
    paths = [d["path"] for d in c.diff("lake", "main", "features", page_size=1)]
    assert paths == [f"train/day={d}/part-0.parquet" for d in (1, 2, 3)]
    # change one row of day 2 and compare the tables row by row
    df2 = pd.DataFrame({"id": [20 + i for i in range(5)], "score": [9.0] + [i / 5 for i in range(1, 5)]})
    df2.to_parquet("varve://lake/features/train/day=2/part-0.parquet", storage_options=opts(served))
    second = c.commit("lake", "features", "fix day 2")
    rows = c.diff_rows("lake", first["id"], second["id"], "train/", key=["id"])
    assert rows["summary"]["changed"] == 1 and rows["summary"]["added"] == 0
    assert rows["rows"][0]["type"] == "changed" and rows["rows"][0]["columns"] == ["score"]
    assert [x["message"] for x in c.log("lake", "features", limit=2)] == ["fix day 2", "three days"]


def test_merges_refusals_merge_requests_and_pins(served: Served, tmp_path) -> None:
    c = served.client()
    merged = c.merge("lake", "features", "main", author="ana")
    assert merged["merged"] is True and merged["commit"]["author"] == "ana" and merged["commit"]["committer"] == "etl"
    with pytest.raises(VarveError) as e:
        c.get_commit("lake", "no-such-branch")
    assert e.value.code == "NOT_FOUND" and e.value.status == 404
    # main requires a reviewed merge request from now on
    varve(["--repo", str(served.lake), "branch", "protect", "main", "--required-approvals", "1"], served.work)
    c.create_branch("lake", "backfill", source="main")
    pd.DataFrame({"id": [40], "score": [0.5]}).to_parquet("varve://lake/backfill/train/day=4/part-0.parquet", storage_options=opts(served))
    c.commit("lake", "backfill", "day 4")
    with pytest.raises(VarveError) as refused:
        c.merge("lake", "backfill", "main")
    assert refused.value.code == "APPROVAL_REQUIRED"
    assert c.hooks_check("lake", "backfill", "main")["ok"] is True
    mr = c.open_merge_request("lake", "backfill", "main", "Backfill day 4")
    assert mr["author"] == "etl" and mr["approval"]["satisfied"] is False
    with pytest.raises(VarveError) as own:
        c.approve("lake", mr["id"])  # etl opened it, and has no approve action anyway
    assert own.value.code == "PERMISSION_DENIED"
    reviewer = served.client("reviewer")
    reviewer.comment("lake", mr["id"], "looks right", path="train/day=4/part-0.parquet")
    reviewer.approve("lake", mr["id"])
    done = c.merge_merge_request("lake", mr["id"])
    assert done["request"]["state"] == "merged"
    assert [r["id"] for r in c.merge_requests("lake", state="merged")] == [mr["id"]]
    # a pin, in the repository (gc keeps it) and in a varve.lock the CLI and TypeScript read too
    lock = tmp_path / "varve.lock"
    pin = c.pin("lake", "train-data", "main", lock=str(lock))
    entry = read_lock(str(lock))["train-data"]
    assert entry["commit"] == pin["commit"] and entry["repo"] == "varve://lake" and entry["repoPin"] == "train-data"
    assert json.loads(lock.read_text())["version"] == 1
    assert "train-data" in {p["name"] for p in c.pins("lake")}


def test_pinned_reads_with_pandas_pyarrow_and_duckdb(served: Served) -> None:  # and polars, HF datasets
    c = served.client()
    commit = {p["name"]: p for p in c.pins("lake")}["train-data"]["commit"]
    url = f"varve://lake/{commit}/train/"
    df = pd.read_parquet(url, storage_options=opts(served))
    assert sorted(df["id"].tolist()) == sorted([10 + i for i in range(5)] + [20 + i for i in range(5)] + [30 + i for i in range(5)] + [40])
    fs = fsspec.filesystem("varve", **opts(served))  # registered by the package's entry point
    table = ds.dataset(f"lake/{commit}/train/", filesystem=fs, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 16
    con = duckdb.connect()
    con.register_filesystem(fs)
    n = con.execute(f"select count(*) from read_parquet('varve://lake/{commit}/train/**/*.parquet')").fetchone()[0]
    assert n == 16
    # Hugging Face datasets takes varve:// URLs through fsspec; polars (whose own URL schemes are fixed) a file fsspec opened
    with fsspec.open(f"varve://lake/{commit}/train/day=1/part-0.parquet", "rb", **opts(served)) as f:
        lf = pl.read_parquet(f)
    assert sorted(lf["id"].to_list()) == [10 + i for i in range(5)]
    hf = load_dataset("parquet", data_files=f"varve://lake/{commit}/train/**/*.parquet", storage_options=opts(served), split="train")
    assert hf.num_rows == 16 and sorted(hf["id"]) == sorted(table.column("id").to_pylist())
    # a commit is read-only through varve://
    with pytest.raises(Exception):
        with fs.open(f"lake/{commit}/train/x.txt", "wb") as f:
            f.write(b"x")


def test_client_needs_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VARVE_ENDPOINT", raising=False)
    with pytest.raises(ValueError):
        Client()
