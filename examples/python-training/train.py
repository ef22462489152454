"""A training job in Python that reads a pinned Varve dataset through `varve serve`: the commit comes
from the lockfile `varve pin` wrote, the bytes from the gateway, as a varve:// path (varve-client).
  python train.py <varve.lock> <endpoint> [pin name] [model.json]
Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a key of the serve config)."""
import json
import os
import sys

import numpy as np
import pandas as pd

try:
    from varve_client import read_lock
except ImportError:  # run from a checkout without `pip install './clients/python[fsspec]'`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python", "src"))
    import fsspec
    from varve_client import read_lock
    from varve_client.fs import VarveFileSystem

    fsspec.register_implementation("varve", VarveFileSystem, clobber=True)  # what the installed entry point does

lock_file, endpoint = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else "train-data"
out = sys.argv[4] if len(sys.argv) > 4 else "model.json"

# 1. The pin: the commit every run of this job reads, whatever the branch does meanwhile.
pin = read_lock(lock_file)[name]
commit = pin["commit"]

# 2. The data at that commit, through the gateway: varve://<repository>/<commit>/<path>.
opts = {"endpoint": endpoint, "key": os.environ["AWS_ACCESS_KEY_ID"], "secret": os.environ["AWS_SECRET_ACCESS_KEY"]}
df = pd.read_parquet(f"varve://{os.environ.get('VARVE_BUCKET', 'lake')}/{commit}/train/", storage_options=opts)

# 3. "Train": a least-squares line score ~ a + b * (id % 100), a model small enough to read.
x = (df["id"] % 100).to_numpy(dtype=float)
y = df["score"].to_numpy(dtype=float)
b, a = np.polyfit(x, y, 1)
model = {"intercept": a, "slope": b, "rows": int(len(df)), "data": {"repo": pin["repo"], "ref": pin["ref"], "commit": commit}, "code": pin["code"]}
with open(out, "w") as f:
    json.dump(model, f, indent=2)
print(f"trained on {len(df)} rows at data commit {commit[:12]}: score = {a:.4f} + {b:.5f} * (id % 100)")
