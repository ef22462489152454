#!/usr/bin/env bash
# The whole life cycle of a dataset, through the varve CLI, on the embedded default (a local folder:
# files + SQLite): create a repository, write a Parquet dataset, branch, change, diff, commit, merge
# through a quality gate and a reviewed merge request, pin it for training, revert, print the log.
#   bash examples/quickstart.sh [workdir]      (pnpm quickstart builds first)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
varve() { node "$here/../packages/cli/dist/bin.js" "$@"; }
work="${1:-./quickstart-workdir}"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export VARVE_AUTHOR=quickstart
step() {
  local a out='$ varve'
  for a in "$@"; do if [[ "$a" =~ [[:space:]] ]]; then out+=" \"$a\""; else out+=" $a"; fi; done
  printf '\n\033[1m%s\033[0m\n' "$out"
  varve "$@"
}

node "$here/make-parquet.mjs" data 1 3                      # train/day=1..3, 1,000 rows each
step init
step put data/ main:train/
cat > train-contract.yaml <<'YAML'
id: train-contract
on: [pre-merge]
branches: [main]
checks:
  - type: parquet-schema
    files: "train/**/*.parquet"
    columns:
      id: { type: int64 }
      score: { type: double }
  - { type: row-count, files: "train/**/*.parquet", min: 1 }
  - { type: required-files, files: "train/**/*.parquet", require: _SUCCESS }
YAML
step put train-contract.yaml main:_varve/hooks/train-contract.yaml
step commit main -m "Three days of training data and their contract"
step branch protect main

step branch create backfill --from main
node "$here/make-parquet.mjs" bad 4 1 --score-as-string     # a backfill with a broken column
step put bad/ backfill:train/
step rm backfill:train/day=1/part-0.parquet
step status backfill
step commit backfill -m "Backfill day 4, drop day 1"
step diff main backfill
printf '\n\033[1m$ varve merge backfill main\033[0m   (the gate refuses: exit 4)\n'
varve merge backfill main && exit 1 || echo "exit code $?"

node "$here/make-parquet.mjs" good 4 1                      # the fix
step put good/ backfill:train/
step commit backfill -m "Fix day 4: score is a double"
step hooks check backfill main

printf '\n\033[1mFrom now on main takes changes through reviewed merge requests\033[0m\n'
step branch protect main --required-approvals 1
step mr open backfill main -t "Backfill day 4"
step mr approve 1 --author reviewer
step mr merge 1
step pin main --name train-data
step ls -rl main:train/day=4/
printf '\n\033[1m$ cat varve.lock\033[0m\n'; cat varve.lock

printf '\n\033[1mSomething slipped through: roll the backfill back (main is protected, so via a branch and a merge request)\033[0m\n'
merge_commit="$(varve log main --json -n 1 | node -e 'process.stdin.on("data", d => console.log(JSON.parse(d).id))')"
step branch create rollback --from main
step revert rollback "$merge_commit"
step mr open rollback main -t "Roll back the backfill"
step mr approve 2 --author reviewer
step mr merge 2
step log main --oneline -n 5
printf '\nThe pinned commit still reads the bytes it pinned:\n'
step cat "$(node -e 'console.log(JSON.parse(require("fs").readFileSync("varve.lock", "utf8")).pins["train-data"].commit)'):train/day=4/_SUCCESS" > /dev/null && echo "ok: train-data still resolves to the pinned commit"
