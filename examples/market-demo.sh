#!/bin/sh
# A full period of the economy on a local node (docs/economy.md):
#
#   a credit partner (bank) issues ASC and funds the quota pools of the developers, the data
#   nodes and the bonuses -> a clinic pays a call of a doctor's contract for a patient it
#   serves (the doctor is the author, the clinic runs it, the patient gets the service bonus)
#   -> a study pays two hospitals for their data, with their patients' shares into each
#   hospital's patient pool -> hospital2 registers a table on the directory chain and the node
#   cites it by itself (data scale) -> every balance -> the period ends and is closed by the
#   node: the rankings pay the top developers and data nodes from the pools -> the clinic
#   withdraws store credit to its settlement account -> the partner redeems ASC ->
#   `leben verify` replays everything.
#
#   examples/market-demo.sh            # needs build/leben
#   DEMO_HOME=/tmp/x examples/market-demo.sh
set -eu

LEBEN=${LEBEN:-$(dirname "$0")/../build/leben}
DEMO_HOME=${DEMO_HOME:-$(mktemp -d /tmp/leben-market-demo.XXXXXX)}
export LEBEN_PASSPHRASE=${LEBEN_PASSPHRASE:-demo-passphrase}
PORT=${PORT:-0}
PERIOD=4

say() { printf '\n== %s\n' "$*"; }
x() { "$LEBEN" "$@" --home "$DEMO_HOME" --node "$URL"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
addr() { "$LEBEN" keys show "$1" --home "$DEMO_HOME" --json | field '["address"]'; }
asc() { x query account "$1" --json | field '.get("balances", {}).get("asc", 0)'; }
csc() { x query account "$1" --json | field '.get("balances", {}).get("csc", 0)'; }
height() { x query status --json | field '["chains"]["settlement"]["height"]'; }

say "1. A node home: alice (a study's sponsor), bob, clinic and hospital2 (data owners), doctor (a contract's author), bank (credit partner), platform (the platform pool)"
"$LEBEN" init --home "$DEMO_HOME" --demo --market # --market: a "market" section, key platform
for k in doctor hospital2; do "$LEBEN" keys new $k --home "$DEMO_HOME" >/dev/null; done
PLATFORM=$(addr platform)
# short periods for the demo (the default is 100 settlement blocks)
python3 - "$DEMO_HOME/genesis.json" "$PERIOD" <<'EOF'
import json, sys
path, period = sys.argv[1], int(sys.argv[2])
g = json.load(open(path))
g["market"].update({"period_blocks": period, "top_k": 3,
                    "quota": {"csc_per_asc": 10, "periods": 2}})
json.dump(g, open(path, "w"), indent=1)
EOF
echo "genesis market section: platform $PLATFORM, periods of $PERIOD settlement blocks, top 3"

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
x tx transfer --from clinic --to hospital2 --amount 10 --asset csc --wait >/dev/null # fees
x tx transfer --from clinic --to doctor --amount 10 --asset csc --wait >/dev/null

say "3. The credit partner issues 1000 ASC and funds the pools (10 CSC per ASC, over 2 periods)"
x tx issue --from bank --to bank --amount 1000 --wait
x market fund --from bank --pool developers --amount 100 --wait
x market fund --from bank --pool data --amount 100 --wait
x market fund --from bank --pool bonus --amount 10 --wait
echo "a bad input is refused and changes nothing:"
x market redeem --from bank --amount 5000 --wait || true

say "4. Uses, all in one period (a use counts in the open period: the first not closed yet)"
while [ $(( $(height) % PERIOD )) -ne 0 ]; do
	x tx transfer --from alice --to bob --amount 0.000001 --wait >/dev/null
done
while [ "$(x market status --json | field '["next_period"]')" -lt $(( $(height) / PERIOD )) ]; do
	sleep 0.1 # the node closes the period that just ended
done
USE_PERIOD=$(x market status --json | field '["next_period"]')
"$LEBEN" keys new patient7 --home "$DEMO_HOME" >/dev/null
echo "- the clinic calls the doctor's contract for 20 ASC for patient7 (the doctor is the author, the clinic runs it; patient7 gets the 0.1 CSC service bonus):"
x market pay --from clinic --use contract-call --amount 20 --authors doctor --executor clinic --patients patient7 --wait
printf '  patient7 CSC: %s\n' "$(csc patient7)"
echo "- alice's study uses two hospitals' data, 30 ASC each, with each hospital's patient pool:"
x market pay --from alice --use study --amount 30 --owner clinic --executor clinic --patient-pool --wait
x market pay --from alice --use study --amount 30 --owner hospital2 --executor hospital2 --patient-pool --wait
echo "- hospital2 registers a 12-record table (directory chain); the node cites it itself (data scale 12, in the period open when the citation lands):"
printf 'patient_id,age\n' >"$DEMO_HOME/h2.csv"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf 'H%d,%d\n' $i $((40 + i)) >>"$DEMO_HOME/h2.csv"; done
REG=$(x data add "$DEMO_HOME/h2.csv" --key hospital2 --name h2 --json | field '["tx"]')
cited() { python3 -c "import sys, urllib.request
try: print(urllib.request.urlopen(sys.argv[1]).read().decode())
except Exception: sys.exit(1)" "$URL/v1/market/cited/$REG"; }
until cited >/dev/null; do
	x tx transfer --from alice --to bob --amount 0.000001 --wait >/dev/null # anchoring blocks
done
echo "  counted: $(cited)"

say "5. Balances after the splits (ASC)"
for k in alice clinic hospital2 doctor; do printf '  %-10s %s\n' $k "$(asc $k)"; done
printf '  %-10s %s\n' platform "$(asc "$PLATFORM")"
x market status --json | field '["splits"]["study"]'

say "6. The period ends: the node closes it itself (market.period, signed with its key)"
while [ "$(x market status --json | field '["next_period"]')" -le "$USE_PERIOD" ]; do
	x tx transfer --from alice --to bob --amount 0.000001 --wait >/dev/null # more blocks
done
x market rankings "$USE_PERIOD"
printf '  doctor CSC: %s, clinic CSC: %s, hospital2 CSC: %s\n' "$(csc doctor)" "$(csc clinic)" "$(csc hospital2)"

say "7. The clinic pays a patient 1 ASC of the patients' share (9 ASC) in its patient pool"
x market pool-pay --from clinic --to patient7 --amounts 1 --wait
printf '  patient7 ASC: %s\n' "$(asc patient7)"

say "7b. The clinic moves 5 ASC into its store wallet and takes 2 ASC back out: the node pays the withdrawal to its settlement account"
x store deposit 5 --from clinic
x store wallet clinic
BEFORE=$(asc clinic)
x store withdraw 2 --from clinic
until [ "$(asc clinic)" -ne "$BEFORE" ]; do
	x tx transfer --from alice --to bob --amount 0.000001 --wait >/dev/null # anchoring blocks
done
x store wallet clinic
printf '  clinic ASC: %s -> %s (+2 ASC paid out by market.store.payout)\n' "$BEFORE" "$(asc clinic)"

say "8. The partner takes 100 ASC back (redemption); the totals"
x market redeem --from bank --amount 100 --wait
x market status --json | field '["totals"]'

say "9. Replay the chains from genesis (splits, pools and rankings included)"
kill $NODE_PID; wait $NODE_PID 2>/dev/null || true
trap - EXIT
"$LEBEN" verify --home "$DEMO_HOME"
echo "demo home: $DEMO_HOME"
