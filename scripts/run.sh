#!/bin/sh
# `make run`: create a demo node home once, start the node and print how to use it.
#   scripts/run.sh BINARY HOME_DIR [PORT]
# PORT (make run PORT=N) serves the API on another port than the one in HOME_DIR/config.json
# (7800 for a new home), for when that port is taken.
set -eu
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOME_DIR=$2
PORT=${3:-}
export LEBEN_PASSPHRASE="${LEBEN_PASSPHRASE:-demo}"
NEW=0
if [ ! -f "$HOME_DIR/genesis.json" ]; then
	"$BIN" init --home "$HOME_DIR" --demo --market --network leben-demo --api-port "${PORT:-7800}"
	NEW=1
fi
HOME_DIR=$(cd "$HOME_DIR" && pwd)
if [ "$NEW" = 1 ]; then
	# once, for the web app: an offered table, patients' opening cards, a store listing
	echo "Adding the demo's data, offer, patients and store listing (once)..."
	"$BIN" node --home "$HOME_DIR" --api-port 0 2>"$HOME_DIR/seed-node.log" &
	SEED_PID=$!
	i=0
	until grep -q "API listening on" "$HOME_DIR/seed-node.log" 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 300 ] || { cat "$HOME_DIR/seed-node.log"; kill $SEED_PID; exit 1; }; sleep 0.1
	done
	SEED_URL=$(sed -n 's/.*API listening on \(http[^ ]*\).*/\1/p' "$HOME_DIR/seed-node.log" | head -1)
	"$ROOT/scripts/demo-seed.sh" "$BIN" "$HOME_DIR" "$SEED_URL" || { kill $SEED_PID; exit 1; }
	kill $SEED_PID
	wait $SEED_PID 2>/dev/null || true
	rm -f "$HOME_DIR/seed-node.log"
fi
if [ -z "$PORT" ]; then
	PORT=$(sed -n 's/.*"api_port": *\([0-9]*\).*/\1/p' "$HOME_DIR/config.json")
	PORT=${PORT:-7800}
fi
URL=http://127.0.0.1:$PORT
cat <<MSG

LEBEN demo node — home $HOME_DIR, API $URL

  Open the web app: $URL/
  (Wallet: open $HOME_DIR/keys/alice.key with passphrase "$LEBEN_PASSPHRASE")
  Exchange: alice requests a run of the clinic's "hypertension cohort", clinic.key approves,
  alice pays into escrow and asks this node to run it, then opens the result.
  Patient portal: patient7.key with the card $HOME_DIR/demo/cards/card-P7.json
  (the other patients: patients.key and their cards). Store: one listing, ASC in alice's
  and bob's store wallets. Designer: open a contract from $ROOT/examples/contracts/.
Demo keys (passphrase "$LEBEN_PASSPHRASE"): alice, bob, clinic (funded), bank (credit partner),
patient7 and patients (consent keys), node (this node's key).
In another terminal:

  export LEBEN_HOME=$HOME_DIR LEBEN_NODE=$URL LEBEN_PASSPHRASE=$LEBEN_PASSPHRASE
  alias leben=$BIN
  leben query status
  leben tx transfer --from alice --to bob --amount 12.5 --wait
  leben tx issue --from bank --to clinic --amount 1000 --wait
  leben tx identity --from bob --role knowledge-sharer --name "Bob, algorithm author" --wait
  leben query account bob
  leben verify
  curl -s $URL/v1/chains

Stop the node with Ctrl-C.
MSG
exec "$BIN" node --home "$HOME_DIR" --api-port "$PORT"
