#!/bin/sh
# Installs the Debian packages LEBEN builds, tests and runs with. Idempotent: packages already
# present are left alone, so `make` can call this on every build at almost no cost.
#   scripts/deps.sh          build and run dependencies (etcd too: consortium ordering)
#   scripts/deps.sh --test   also the test oracles (pydicom, scikit-learn, npm packages)
set -eu

BUILD="build-essential pkg-config libsodium-dev libsqlite3-dev sqlite3 libmicrohttpd-dev libgnutls28-dev \
libjansson-dev libcurl4-openssl-dev libssl-dev openssl libgmp-dev liblua5.4-dev libseccomp-dev \
libpng-dev libjpeg-dev zlib1g-dev libstb-dev curl ca-certificates etcd-server etcd-client libmagic-dev libpoppler-glib-dev"
TEST="clang libclang-rt-14-dev libcmocka-dev valgrind tmux python3 python3-pydicom \
python3-sklearn python3-numpy dcmtk libdcmtk17 iproute2 nftables chromium ffmpeg"

want="$BUILD"
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"

missing=""
# node and npm build the web app (make; Vite needs Node.js >= 20.19, docs/web.md) and run the
# test oracles; a machine may already have them from another source
if ! command -v npm >/dev/null 2>&1; then want="$want nodejs npm"; fi
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm test oracles (independent implementations used by differential tests)
if [ "${1:-}" = "--test" ] && [ -f tests/oracles/package.json ]; then
	if [ ! -d tests/oracles/node_modules ] || [ tests/oracles/package.json -nt tests/oracles/node_modules ]; then
		echo "deps: installing npm test oracles"
		(cd tests/oracles && npm install --no-audit --no-fund --silent >/dev/null)
		touch tests/oracles/node_modules
	fi
fi
exit 0
