#!/bin/sh
# The knowledge store on a local node (docs/economy.md, "The knowledge store"):
#
#   a doctor publishes and lists a hypertension contract; a cardiologist publishes a chest pain
#   contract derived from it -> a clinic finds it by searching with a typo, pays a call in ASC
#   on the settlement chain (split: author, ancestor's author, platform pool), runs it and
#   anchors the session, records the outcome and rates it -> the family tree -> a template
#   instance is verified, published and listed; a failing instance is refused -> a call
#   without enough in the store wallet is refused -> `leben verify` replays everything.
#
#   examples/store-demo.sh            # needs build/leben
set -eu

LEBEN=${LEBEN:-$(dirname "$0")/../build/leben}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO_HOME=${DEMO_HOME:-$(mktemp -d /tmp/leben-store-demo.XXXXXX)}
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-demo-passphrase}
PORT=${PORT:-0}

say() { printf '\n== %s\n' "$*"; }
x() { "$LEBEN" "$@" --home "$DEMO_HOME" --node "$URL"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
addr() { "$LEBEN" keys show "$1" --home "$DEMO_HOME" --json | field '["address"]'; }
asc() { x query account "$1" --json | field '.get("balances", {}).get("asc", 0)'; }

say "1. A node home: doctor and cardio (authors), clinic (a buyer), bank (credit partner)"
"$LEBEN" init --home "$DEMO_HOME" --demo
for k in doctor cardio platform; do "$LEBEN" keys new $k --home "$DEMO_HOME" >/dev/null; done
python3 - "$DEMO_HOME/genesis.json" "$(addr platform)" "$(addr alice)" <<'PY'
import json, sys
path, platform, alice = sys.argv[1:4]
g = json.load(open(path))
g["market"] = {"platform": platform, "period_blocks": 1000, "top_k": 3,
               "quota": {"csc_per_asc": 10, "periods": 2}}
g["store_wallets"] = [{"address": alice, "asc": 500000}]  # micro-ASC
json.dump(g, open(path, "w"), indent=1)
PY

say "2. Start the node"
"$LEBEN" node --home "$DEMO_HOME" --api-port "$PORT" 2>"$DEMO_HOME/node.log" &
NODE_PID=$!
trap 'kill $NODE_PID 2>/dev/null; wait $NODE_PID 2>/dev/null || true' EXIT
i=0
until grep -q "API listening on" "$DEMO_HOME/node.log" 2>/dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$DEMO_HOME/node.log"; exit 1; }; sleep 0.1
done
URL=$(sed -n 's/.*API listening on \(http[^ ]*\).*/\1/p' "$DEMO_HOME/node.log" | head -1)
echo "node API at $URL"
x tx issue --from bank --to clinic --amount 100 --wait >/dev/null

say "3. The doctor publishes and lists a hypertension contract; cardio derives a chest pain one"
HYP=$(x contract publish "$ROOT/examples/contracts/hypertension.pf" --key doctor --json | field '["contract"]')
x store add "$HYP" --from doctor --title "Hypertension diagnosis and follow-up" \
	--specialty cardiology --price-call 1 --price-licence 20 --codes 'icd10|I10,snomed|38341003' \
	--description "Clinic and ambulatory blood pressure, treatment steps, reviews until controlled"
CHEST=$(x contract publish "$ROOT/examples/contracts/chest_pain.pf" --key cardio --json | field '["contract"]')
x store add "$CHEST" --from cardio --title "Chest pain assessment" --specialty cardiology \
	--price-call 5 --codes 'icd10|R07.4' --parent "$HYP" --relation extend \
	--description "Acute chest pain: ECG, troponin, same-day referral"

say "4. The clinic searches (with a typo) and finds it"
x store search "chset pain pathway"

say "5. The clinic pays a call in ASC (market.pay, cited by the store), runs it and anchors the session"
A0=$(asc cardio); D0=$(asc doctor)
echo '{"pain_now": true, "ecg": "st_elevation"}' >"$DEMO_HOME/answers.json"
OUT=$(x store call "$CHEST" --from clinic --settle --run -- --answers "$DEMO_HOME/answers.json" --anchor --key clinic)
echo "$OUT"
CALL=$(echo "$OUT" | sed -n 's/.*call id \([0-9a-f]*\);.*/\1/p')
echo "cardio (author) got $(( $(asc cardio) - A0 )) micro-ASC, doctor (ancestor's author) $(( $(asc doctor) - D0 ))"
SESSION=$(x contract sessions --contract "$CHEST" --json | field '["sessions"][0]["id"]')

say "6. Outcome (linked to the session) and a rating"
x store outcome "$CALL" referral-confirmed --session "$SESSION" --from clinic
x store rate "$CHEST" 5 "clear, fast, right referral" --from clinic
x store show "$CHEST"

say "7. The family tree"
x store family "$HYP"

say "8. A template: an instance verified, published and listed; a failing one refused"
TID=$(x store template add "$ROOT/tests/data/store/hypertension.tmpl" --from doctor \
	--title "Hypertension follow-up, target systolic" | awk '{print $2}')
INST=$(x store template instantiate "$TID" --params '{"target": 150}' --out "$DEMO_HOME/inst.pf" --json | field '["contract"]')
x contract publish "$DEMO_HOME/inst.pf" --key doctor >/dev/null
x store add "$INST" --from doctor --title "Hypertension follow-up to 150" --price-call 0.5 \
	--template "$TID" --params '{"target": 150}'
x store template instantiate "$TID" --params '{"target": 400}' --out "$DEMO_HOME/bad.pf" || echo "(refused, as it must be)"

say "9. Alice's store wallet holds 0.5 ASC: a call of 5 is refused, nothing changes"
x store call "$CHEST" --from alice || echo "(refused, as it must be)"

say "10. Listings by calls, and leben verify"
x store list --sort calls
kill $NODE_PID; wait $NODE_PID 2>/dev/null || true
trap - EXIT
"$LEBEN" verify --home "$DEMO_HOME"
