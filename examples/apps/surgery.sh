#!/bin/sh
# Application 4: surgical quality control, end to end.
#
#   examples/apps/surgery.sh               # on one local node (started here)
#   examples/apps/surgery.sh consortium    # on a consortium of three institutions
#                                          # (scripts/cluster.sh up 3; needs etcd)
#   KEEP=1 CLUSTER=DIR ... consortium      # leave the cluster running in DIR at the end
#
# Three hospitals' operations (FHIR Procedure + Observation resources, synthetic, with known
# risk factors and one surgeon with three times the odds of death) are imported into each
# hospital's own table; the pre-operative risk model is fitted across the hospitals by the
# federated logistic regression (only summed gradients and Hessians travel, by secure
# aggregation; on the consortium every hospital's node runs its own step of each round as a
# run of an approved exchange request); every hospital computes its cases' expected risks with
# the shared model and releases only its observed/expected summary; the risk-adjusted CUSUM
# runs at the hospital and its alarms are recorded on the business chain (surgery.alarm);
# funnel plots (SVG) and the ranking of operations with the store's contracts are drawn from
# the released summaries. Output files stay in $WORK (printed at the end).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEBEN=${LEBEN:-$ROOT/build/leben}
export LEBEN_BIN=$LEBEN
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-demo-passphrase}
MODE=${1:-local}
WORK=${WORK:-$(mktemp -d /tmp/leben-surgery.XXXXXX)}
mkdir -p "$WORK"
CASES=${CASES:-700}

say() { printf '\n== %s\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

if [ "$MODE" = consortium ]; then
	CLUSTER=${CLUSTER:-$WORK/cluster}
	say "1. A consortium of three institutions on this machine (etcd ordering, mutual TLS)"
	# the members are named after their hospitals: a hospital id is its member's name (or
	# NAME:SITE), so each institution records alarms only under its own (docs/apps.md §4)
	LEBEN_CLUSTER_NAMES="H1;H2;H3" "$ROOT/scripts/cluster.sh" up 3 "$CLUSTER" >"$WORK/cluster.log" 2>&1 ||
		{ cat "$WORK/cluster.log"; exit 1; }
	if [ -z "${KEEP:-}" ]; then
		trap '"$ROOT/scripts/cluster.sh" down "$CLUSTER" >/dev/null 2>&1' EXIT
	fi
	# shellcheck disable=SC1091
	. "$CLUSTER/cluster.env"
	home() { echo "$CLUSTER/node-$1"; }
	url() { eval echo "\$NODE_API_$1"; }
else
	say "1. One local node (all three hospitals' tables on this machine)"
	"$LEBEN" init --home "$WORK/node" --demo >/dev/null
	"$LEBEN" node --home "$WORK/node" --api-port 0 2>"$WORK/node.log" &
	NODE_PID=$!
	trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null || true' EXIT
	i=0
	until grep -q "API listening on" "$WORK/node.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 200 ] || { cat "$WORK/node.log"; exit 1; }; sleep 0.1
	done
	NODE=$(sed -n 's/.*API listening on \(http[^ ]*\).*/\1/p' "$WORK/node.log" | head -1)
	home() { echo "$WORK/node"; }
	url() { echo "$NODE"; }
fi
# at hospital I: leben ... --home HOME-I --node URL-I
at() { i=$1; shift; "$LEBEN" "$@" --home "$(home "$i")" --node "$(url "$i")"; }
echo "nodes: $(url 1) $(url 2) $(url 3)"

say "2. Synthetic surgery records: 3 hospitals x $CASES operations as FHIR NDJSON"
"$LEBEN" surgery generate --out "$WORK/fhir" --cases "$CASES" --seed 11 --outlier H2-S3 --outlier-or 3 >/dev/null
head -c 400 "$WORK/fhir/H1.ndjson"; echo " ..."

say "3. Each hospital loads its FHIR records into its own node's FHIR endpoint and its table"
for h in 1 2 3; do
	mkdir -p "$WORK/H$h"
	at $h fhir import "$WORK/fhir/H$h.ndjson" --key node
	"$LEBEN" surgery import "$WORK/fhir/H$h.ndjson" --out "$WORK/H$h/records.csv"
done

say "4. The pre-operative risk model, fitted across the three hospitals without pooling rows"
X='["age","asa","emergency","diabetes"]'
if [ "$MODE" = consortium ]; then
	addr() { "$LEBEN" keys show "$2" --home "$(home "$1")" --json | field '["address"]'; }
	OWNER1=clinic
	for i in 1 2 3; do
		at 1 tx transfer --from clinic --to "$(addr $i node)" --amount 20 --asset csc --wait >/dev/null
		at 1 tx transfer --from clinic --to "$(addr $i node)" --amount 20 --asset asc --wait >/dev/null
	done
	at 1 tx transfer --from clinic --to "$(addr 1 alice)" --amount 20 --asset csc --wait >/dev/null
	ASSETS= REQS=
	for i in 1 2 3; do
		if [ $i = 1 ]; then O=$OWNER1; else O=node; fi
		REG=$(at $i data add "$WORK/H$i/records.csv" --key $O --price 0 --name "surgery records H$i" --allow-near --json | field '["tx"]')
		at $i tx identity --from $O --role provider --name "hospital H$i" --wait >/dev/null
		A=$(at $i exchange offer --from $O --asset-tx "$REG" --price 0 --min-cohort 10 --data "$WORK/H$i/records.csv" \
			--opt-out --legal-basis "surgical quality control under the consortium's agreement" --json | field '["asset"]')
		mkdir -p "$(home $i)/exchange/assets"
		cp "$WORK/H$i/records.csv" "$(home $i)/exchange/assets/$A.csv"
		ASSETS="$ASSETS $A"
		if [ $i = 1 ]; then
			at 1 exchange grant --from clinic --asset "$A" --executor "$(addr 1 node)" --kind own >/dev/null
		fi
		echo "H$i's records: asset $A (kept on its node)"
	done
	PARAMS="{\"y\":\"died\",\"x\":$X,\"C\":1e12}"
	i=0
	for A in $ASSETS; do
		i=$((i + 1))
		if [ $i = 1 ]; then O=$OWNER1; else O=node; fi
		R=$(at 1 exchange request --from alice --asset "$A" --algorithm builtin:logreg --params "$PARAMS" \
			--purpose "pre-operative risk model for surgical quality control" --json | field '["tx"]')
		at $i exchange approve --from $O --request "$R" >/dev/null
		REQS="${REQS:+$REQS,}$R"
	done
	echo "the quality office's requests, approved by each hospital: $REQS"
	at 1 study run --owners "$(url 1),$(url 2),$(url 3)" --requests "$REQS" --key alice \
		--algorithm logreg --params "$PARAMS" --compute-fee 0.01 --json >"$WORK/model.json"
	python3 -c "import json; m=json.load(open('$WORK/model.json')); print('coefficients', json.dumps(m['result']['coefficients']))"
else
	"$LEBEN" surgery fit --owners "$WORK/H1/records.csv,$WORK/H2/records.csv,$WORK/H3/records.csv" --out "$WORK/model.json"
fi
python3 -c "import json; print('true model  ', json.dumps(json.load(open('$WORK/fhir/truth.json'))['coefficients'], sort_keys=True))"

say "5. Each hospital: expected risk per case with the shared model, O/E released as a summary"
for h in 1 2 3; do
	"$LEBEN" surgery monitor --records "$WORK/H$h/records.csv" --model "$WORK/model.json" --out "$WORK/H$h/summary.json"
done

say "6. Risk-adjusted CUSUM of each surgeon at H2 (RA 2, h 4.5); alarms recorded on the chain"
for s in 1 2 3 4; do
	at 2 surgery cusum --records "$WORK/H2/records.csv" --model "$WORK/model.json" --surgeon "H2-S$s" --record --key node
done

say "7. The alarms as every member reads them (from hospital 3's node)"
at 3 surgery alarms --hospital H2 --surgeon H2-S3

say "8. Funnel plots from the released summaries"
SUMS="$WORK/H1/summary.json,$WORK/H2/summary.json,$WORK/H3/summary.json"
"$LEBEN" surgery funnel --summaries "$SUMS" --out "$WORK/funnel-surgeons.svg"
"$LEBEN" surgery funnel --summaries "$SUMS" --by hospital --out "$WORK/funnel-hospitals.svg"

say "9. The store lists an operation protocol for colectomy; operations ranked by O/E"
C=$(at 1 contract publish "$ROOT/examples/contracts/colectomy_pathway.pf" --key clinic --json | field '["contract"]')
at 1 store add "$C" --title "Colectomy perioperative pathway" --specialty surgery --price-call 1 \
	--codes "snomed|23968004" --description "Risk triage to critical care or enhanced recovery" --from clinic >/dev/null
at 1 surgery rank --summaries "$SUMS"

echo
echo "Done. Files (records, model, summaries, plots) are in $WORK"
