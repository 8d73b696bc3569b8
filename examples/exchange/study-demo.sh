#!/bin/sh
# Try the sandbox and a three-owner study on a real table, offline (no node needed).
#
# The table is the Wisconsin breast-cancer data Debian ships with python3-sklearn: 569 patients,
# 30 measurements (here x1..x30) and the outcome (target: 1 benign, 0 malignant). It is split
# into three "hospitals" by row; the study fits one logistic regression over the three without
# pooling them.
#
#   sh examples/exchange/study-demo.sh [path/to/leben]
set -eu
LEBEN=${1:-build/leben}
SRC=/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv
HERE=$(dirname "$0")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
[ -r "$SRC" ] || { echo "needs $SRC (Debian package python3-sklearn)"; exit 1; }

# header line, then the rows (the file's own first line is a count, not a header)
hdr=$(awk 'BEGIN { for (i = 1; i <= 30; i++) printf "x%d,", i; print "target" }')
{ echo "$hdr"; tail -n +2 "$SRC"; } > "$W/all.csv"
for k in 0 1 2; do
	{ echo "$hdr"; tail -n +2 "$SRC" | awk -v k=$k 'NR % 3 == k'; } > "$W/hospital$k.csv"
done

echo "== 1. descriptive statistics in the sandbox (min/max, single records' values, are never released)"
"$LEBEN" sandbox run --algorithm stats --input "$W/all.csv" --params '{"columns":["x1","x2"]}'

echo "== 2. a histogram: its range comes from the parameters; cells under 10 patients are suppressed (null, listed)"
"$LEBEN" sandbox run --algorithm stats --input "$W/all.csv" --params '{"columns":["x1"],"bins":8,"range":[5,30]}'

echo "== 2b. a script filtering down to a few patients is not released, whatever n it declares"
echo 'return { n = agg.count({ { col = "x1", gt = 27 } }), m = agg.mean("x2", { { col = "x1", gt = 27 } }) }' > "$W/few.lua"
"$LEBEN" sandbox run --algorithm "$W/few.lua" --input "$W/all.csv" || true

echo "== 3. a Lua algorithm (aggregates through the agg library)"
"$LEBEN" sandbox run --algorithm "$HERE/mean_by_outcome.lua" --input "$W/all.csv" \
	--params '{"column":"x1","outcome":"target"}'

echo "== 4. a Lua script that tries to read a file is stopped"
echo 'return { n = 1, text = io.open("/etc/passwd"):read("a") }' > "$W/escape.lua"
"$LEBEN" sandbox run --algorithm "$W/escape.lua" --input "$W/all.csv" || true

echo "== 5. the table sealed to the data owner's key, opened only inside the sandbox"
pub=$("$LEBEN" envelope keygen --out "$W/owner.key")
"$LEBEN" envelope seal --to "$pub" --in "$W/all.csv" --out "$W/all.env"
"$LEBEN" sandbox run --algorithm linreg --input "$W/all.env" --key "$W/owner.key" \
	--params '{"y":"x4","x":["x1","x2"]}'

echo "== 6. one logistic regression over three hospitals by secure aggregation"
"$LEBEN" study run --owners "$W/hospital0.csv,$W/hospital1.csv,$W/hospital2.csv" \
	--algorithm logreg --params '{"y":"target","x":["x1","x2","x8","x21","x22","x28"],"standardize":true}'
