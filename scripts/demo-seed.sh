#!/bin/sh
# Something to do in the web app of a new demo node (`make run` runs this once, when it makes
# the home; the browser tests use it too): a clinic's 12-patient table published in the
# directory and offered for exchange, this node granted the right to run requests on it (the
# table kept in its home for that), the patients' consent keys registered — P7 with its own key
# `patient7`, the others sharing `patients` — with every opening card written to
# HOME/demo/cards/, every patient but P7 consenting; a published contract listed in the store
# and ASC in alice's and bob's store wallets. Writes HOME/demo/seed.json: {"asset", "data",
# "cards", "contract"}.
#
#   scripts/demo-seed.sh BINARY HOME URL        (the node at URL running on HOME)
set -eu
BIN=$1 HOME_DIR=$2 URL=$3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export LEBEN_PASSPHRASE="${LEBEN_PASSPHRASE:-demo}"
x() { "$BIN" "$@" --home "$HOME_DIR" --node "$URL"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
D=$HOME_DIR/demo
mkdir -p "$D/cards" "$HOME_DIR/exchange/assets"

"$BIN" keys new patient7 --home "$HOME_DIR" >/dev/null
"$BIN" keys new patients --home "$HOME_DIR" >/dev/null
DATA=$D/cohort.csv
cat >"$DATA" <<EOF
patient_id,age,systolic,hba1c
P1,43,120,51
P2,46,122,52
P3,49,124,53
P4,52,126,54
P5,55,128,50
P6,58,130,51
P7,61,132,52
P8,64,134,53
P9,67,136,54
P10,70,138,50
P11,73,140,51
P12,76,142,52
EOF
REG=$(x data add "$DATA" --key clinic --price 5 --name "hypertension cohort" --json | field '["tx"]')
x tx identity --from clinic --role provider --name "St. Anna Clinic" --wait >/dev/null
x tx transfer --from clinic --to node --amount 10 --asset csc --wait >/dev/null
ASSET=$(x exchange offer --from clinic --asset-tx "$REG" --price 5 --min-cohort 10 --data "$DATA" --json |
	field '["asset"]')
x exchange grant --from clinic --asset "$ASSET" --executor node --kind own >/dev/null
cp "$DATA" "$HOME_DIR/exchange/assets/$ASSET.csv"
P7=$("$BIN" keys show patient7 --home "$HOME_DIR" --json | field '["address"]')
PX=$("$BIN" keys show patients --home "$HOME_DIR" --json | field '["address"]')
{
	echo "local_id,address"
	for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
		if [ "$n" = 7 ]; then echo "P$n,$P7"; else echo "P$n,$PX"; fi
	done
} >"$D/patient-keys.csv"
x exchange patients --from clinic --asset "$ASSET" --data "$DATA" --keys "$D/patient-keys.csv" \
	--out "$D/registered" >/dev/null
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	x exchange opening --asset "$ASSET" --patient "P$n" --out "$D/cards/card-P$n.json" >/dev/null
	[ "$n" = 7 ] || x exchange consent --from patients --opening "$D/cards/card-P$n.json" >/dev/null
done

CONTRACT=$(x contract publish "$ROOT/examples/contracts/hypertension.pf" --key clinic --json | field '["contract"]')
x store add "$CONTRACT" --title "Hypertension diagnosis and follow-up" --specialty cardiology \
	--price-call 1 --price-licence 20 --codes "icd10|I10" --description "Blood pressure follow-up" \
	--from clinic >/dev/null
x store deposit 40 --from alice >/dev/null
x store deposit 40 --from bob >/dev/null
printf '{"asset": "%s", "data": "%s", "cards": "%s", "contract": "%s"}\n' \
	"$ASSET" "$DATA" "$D/cards" "$CONTRACT" >"$D/seed.json"
