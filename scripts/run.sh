#!/bin/sh
# `make run`: create a demo node home once, start the node and print how to use it.
#   scripts/run.sh BINARY HOME_DIR
set -eu
BIN=$1
HOME_DIR=$2
export LEBEN_PASSPHRASE="${LEBEN_PASSPHRASE:-demo}"
if [ ! -f "$HOME_DIR/genesis.json" ]; then
	"$BIN" init --home "$HOME_DIR" --demo --network leben-demo
fi
PORT=$(sed -n 's/.*"api_port": *\([0-9]*\).*/\1/p' "$HOME_DIR/config.json")
cat <<MSG

LEBEN demo node — home $HOME_DIR, API http://127.0.0.1:${PORT:-7800}
Demo keys (passphrase "$LEBEN_PASSPHRASE"): alice, bob, clinic (funded), bank (credit partner).
In another terminal:

  export LEBEN_HOME=$HOME_DIR LEBEN_PASSPHRASE=$LEBEN_PASSPHRASE
  $BIN query status
  $BIN tx transfer --from alice --to bob --amount 12.5 --wait
  $BIN tx issue --from bank --to clinic --amount 1000 --wait
  $BIN tx identity --from clinic --role provider --name "Clinic One" --wait
  $BIN query account bob
  $BIN verify

Stop the node with Ctrl-C.
MSG
exec "$BIN" node --home "$HOME_DIR"
