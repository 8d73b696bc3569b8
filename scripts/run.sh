#!/bin/sh
# `make run`: create a demo node home once, start the node and print how to use it.
#   scripts/run.sh BINARY HOME_DIR [PORT]
# PORT (make run PORT=N) serves the API on another port than the one in HOME_DIR/config.json
# (7800 for a new home), for when that port is taken.
set -eu
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HOME_DIR=$2
PORT=${3:-}
export LEBEN_PASSPHRASE="${LEBEN_PASSPHRASE:-demo}"
if [ ! -f "$HOME_DIR/genesis.json" ]; then
	"$BIN" init --home "$HOME_DIR" --demo --network leben-demo --api-port "${PORT:-7800}"
fi
HOME_DIR=$(cd "$HOME_DIR" && pwd)
if [ -z "$PORT" ]; then
	PORT=$(sed -n 's/.*"api_port": *\([0-9]*\).*/\1/p' "$HOME_DIR/config.json")
	PORT=${PORT:-7800}
fi
URL=http://127.0.0.1:$PORT
cat <<MSG

LEBEN demo node — home $HOME_DIR, API $URL

  Open the web app: $URL/
  (Wallet: open $HOME_DIR/keys/alice.key with passphrase "$LEBEN_PASSPHRASE")
Demo keys (passphrase "$LEBEN_PASSPHRASE"): alice, bob, clinic (funded), bank (credit partner).
In another terminal:

  export LEBEN_HOME=$HOME_DIR LEBEN_NODE=$URL LEBEN_PASSPHRASE=$LEBEN_PASSPHRASE
  alias leben=$BIN
  leben query status
  leben tx transfer --from alice --to bob --amount 12.5 --wait
  leben tx issue --from bank --to clinic --amount 1000 --wait
  leben tx identity --from clinic --role provider --name "Clinic One" --wait
  leben query account bob
  leben verify
  curl -s $URL/v1/chains

Stop the node with Ctrl-C.
MSG
exec "$BIN" node --home "$HOME_DIR" --api-port "$PORT"
