#!/bin/sh
# Application 1, smart diagnosis and referral (CHdoctor; docs/apps.md §1), end to end:
#
#   the knowledge developer team (alice) publishes the fetal CHD screening contract -> a general
#   practice (clinic) fills its store wallet and screens a pregnancy with it (an anchored
#   session: abnormal four-chamber view -> refer_fetal_cardiology) -> the specialist
#   institution has declared its specialty (fetal-cardiology) -> the practice refers: FHIR
#   ServiceRequest + Task at its node, referral.create on the business chain citing the session,
#   and the value of the diagnosis (20 ASC) split by the market's diagnosis table among
#   developer team, provider hospital, practice and platform pool -> a referral without a positive session is refused -> the
#   specialist accepts (Task accepted), holds a telemedicine consultation (Encounter, class
#   virtual) and reports back (Observation; Task completed), each step on the chain with
#   hashes only -> the referral's record and the four wallets.
#
#   examples/apps/referral.sh                # one local node (needs build/leben)
#   examples/apps/referral.sh --consortium   # three institutions (scripts/cluster.sh up 3;
#                                            # needs etcd): practice at institution-1, the
#                                            # specialist hospital is institution-2
#   KEEP=1 CLUSTER=DIR ...--consortium       # leave the cluster running in DIR at the end
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEBEN=${LEBEN:-$ROOT/build/leben}
export LEBEN_BIN=$LEBEN
MODE=${1:-single}
say() { printf '\n== %s\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

if [ "$MODE" = "--consortium" ]; then
	export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-cluster}
	CLUSTER=${CLUSTER:-$(mktemp -d /tmp/leben-referral-cluster.XXXXXX)}
	say "0. A consortium of three institutions on this machine (etcd ordering, mutual TLS)"
	"$ROOT/scripts/cluster.sh" up 3 "$CLUSTER"
	if [ -z "${KEEP:-}" ]; then
		trap '"$ROOT/scripts/cluster.sh" down "$CLUSTER" >/dev/null' EXIT
	fi
	# shellcheck disable=SC1091
	. "$CLUSTER/cluster.env"
	WORK=$CLUSTER
	GP_AT=1 SPEC_AT=2
	# institution I: leben ... --home node-I --node URL-I
	at() { i=$1; shift; "$LEBEN" "$@" --home "$CLUSTER/node-$i" --node "$(eval echo "\$NODE_API_$i")"; }
	home_of() { echo "$CLUSTER/node-$1"; }
	SPEC_KEY=node # the specialist hospital signs with its node key
else
	export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-demo-passphrase}
	HOME_DIR=${DEMO_HOME:-$(mktemp -d /tmp/leben-referral.XXXXXX)}
	WORK=$HOME_DIR
	say "0. One node: alice (developer team), clinic (practice), bob (specialist hospital)"
	"$LEBEN" init --home "$HOME_DIR" --demo
	"$LEBEN" keys new platform --home "$HOME_DIR" >/dev/null
	PLATFORM=$("$LEBEN" keys show platform --home "$HOME_DIR" --json | field '["address"]')
	python3 - "$HOME_DIR/genesis.json" "$PLATFORM" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
g["market"] = {"platform": sys.argv[2]}
json.dump(g, open(sys.argv[1], "w"), indent=1)
PY
	"$LEBEN" node --home "$HOME_DIR" --api-port "${PORT:-0}" 2>"$HOME_DIR/node.log" &
	NODE_PID=$!
	trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null || true' EXIT
	i=0
	until grep -q "API listening on" "$HOME_DIR/node.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat "$HOME_DIR/node.log"; exit 1; }; sleep 0.1
	done
	URL=$(sed -n 's/.*API listening on \(http[^ ]*\).*/\1/p' "$HOME_DIR/node.log" | head -1)
	echo "node API at $URL"
	GP_AT=1 SPEC_AT=1
	at() { shift; "$LEBEN" "$@" --home "$HOME_DIR" --node "$URL"; }
	home_of() { echo "$HOME_DIR"; }
	SPEC_KEY=bob
fi
# the address of key NAME at institution I
addr() { "$LEBEN" keys show "$2" --home "$(home_of "$1")" --json | field '["address"]'; }
ADDR_SPEC=$(addr $SPEC_AT $SPEC_KEY)
ADDR_GP=$(addr $GP_AT clinic)
ADDR_DEV=$(addr $GP_AT alice)
echo "practice        $ADDR_GP"
echo "specialist      $ADDR_SPEC"
echo "developer team  $ADDR_DEV"

say "1. The developer team publishes the fetal CHD screening contract"
CHD=$(at $GP_AT contract publish "$ROOT/examples/contracts/chd_screening.pf" --key alice --json | field '["contract"]')
echo "contract $CHD"

say "2. The practice fills its store wallet with 30 ASC (settlement transfer, cited)"
at $GP_AT store deposit 30 --from clinic

say "3. The specialist hospital declares its specialty"
at $SPEC_AT referral specialist fetal-cardiology --from $SPEC_KEY

say "4. The practice screens: abnormal four-chamber view (the run is anchored on the chain)"
cat >"$WORK/answers.json" <<'EOF'
{"gestation_weeks": 20, "four_chamber": "abnormal", "outflow_tracts": "normal", "risk_factors": ["none"]}
EOF
at $GP_AT contract run "$ROOT/examples/contracts/chd_screening.pf" --answers "$WORK/answers.json" \
	--anchor --key clinic --anchor-record "$WORK/screen.json" >/dev/null
SESSION=$(field '["session"]' <"$WORK/screen.json")
echo "session $SESSION"
cat >"$WORK/normal.json" <<'EOF'
{"gestation_weeks": 21, "four_chamber": "normal", "outflow_tracts": "normal", "nt_mm": 2.0, "risk_factors": ["none"]}
EOF
at $GP_AT contract run "$ROOT/examples/contracts/chd_screening.pf" --answers "$WORK/normal.json" \
	--anchor --key clinic --anchor-record "$WORK/normal.rec.json" >/dev/null
NORMAL=$(field '["session"]' <"$WORK/normal.rec.json")

say "5. The patient's record at the practice's FHIR endpoint"
echo '{"resourceType":"Patient","id":"p-0412","name":[{"family":"Chen","given":["Li"]}],"birthDate":"1992-08-01"}' >"$WORK/patient.ndjson"
at $GP_AT fhir import "$WORK/patient.ndjson"

say "6. A referral after a normal screening is refused (nothing to refer)"
if at $GP_AT referral create --from clinic --session "$NORMAL" --candidate refer_fetal_cardiology \
	--to "$ADDR_SPEC" --specialty fetal-cardiology --patient p-0412 --no-fhir; then
	echo "unexpected: accepted"; exit 1
fi

say "7. The practice refers (20 ASC for the diagnosis, split among the four parties)"
REF=$(at $GP_AT referral create --from clinic --session "$SESSION" --to "$ADDR_SPEC" \
	--specialty fetal-cardiology --patient p-0412 --fee 20 \
	--reason "Abnormal four-chamber view at 20 weeks" --json | field '["referral"]')
echo "referral $REF"
echo "$REF" >"$WORK/referral.id"

say "8. The specialist hospital accepts, consults by video, reports back"
at $SPEC_AT referral accept "$REF" --from $SPEC_KEY
at $SPEC_AT referral consult "$REF" --from $SPEC_KEY
at $SPEC_AT referral report "$REF" --from $SPEC_KEY --outcome confirmed \
	--conclusion "Fetal echocardiography: perimembranous VSD 3 mm; review at 28 weeks"

say "9. The referral as the chain recorded it (read at the practice's node)"
at $GP_AT referral status "$REF"

say "10. The value of the diagnosis (the market's diagnosis table): developer team 55 %, provider hospital 20 %, practice 10 %, platform pool 15 %"
for a in "$ADDR_DEV" "$ADDR_SPEC" "$ADDR_GP"; do at $GP_AT store wallet "$a"; done
echo "done"
