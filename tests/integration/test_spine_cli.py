#!/usr/bin/env python3
"""The node-home commands through the real binary: `leben init` (files made, a second init
refused), `leben keys new|list|show` (addresses checked against an independent derivation,
duplicates, bad names, unknown keys, usage errors), `leben node` start-up failures (no home,
wrong passphrase, port taken, bad setting), `leben verify` (a home never started, a good
history, an edited state entry, --json), and scripts/run.sh (what `make run` runs): the
demo node it starts answers every command of the tour it prints."""

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, ROOT, Node, Tap, address_of, env, free_port, run_cli  # noqa: E402


def main():
    t = Tap()
    tmp = tempfile.mkdtemp(prefix="leben-spine-cli-")
    try:
        init_and_keys(t, os.path.join(tmp, "home"))
        node_failures(t, tmp)
        verify(t)
        run_script(t, os.path.join(tmp, "demo"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t.done()


def init_and_keys(t, home):
    r = run_cli(["init", "--home", home, "--network", "spine-cli"])
    t.ok(r.returncode == 0 and "Created a LEBEN node home" in r.stdout, "init creates a home", r.stderr)
    t.ok(all(os.path.exists(os.path.join(home, f)) for f in ("genesis.json", "config.json", "keys/node.key")),
         "init writes genesis.json, config.json and keys/node.key")
    g = json.load(open(os.path.join(home, "genesis.json")))
    t.ok(g.get("network") == "spine-cli" and "proposer" not in g, "genesis has the network name and no proposer", g)
    before = open(os.path.join(home, "genesis.json")).read()
    r = run_cli(["init", "--home", home])
    t.ok(r.returncode == 1 and "already holds a node" in r.stderr, "a second init is refused", r.stderr)
    t.eq(open(os.path.join(home, "genesis.json")).read(), before, "a refused init changes nothing")
    r = run_cli(["init", "--bogus"])
    t.eq(r.returncode, 2, "init with an unknown option: exit 2")

    r = run_cli(["keys", "new", "carol", "--home", home])
    m = re.search(r"address: (lb1\w+)", r.stdout)
    t.ok(r.returncode == 0 and m, "keys new prints the new address", r.stdout + r.stderr)
    r = run_cli(["keys", "show", "carol", "--home", home, "--json"])
    k = json.loads(r.stdout) if r.returncode == 0 else {}
    t.ok(m and k.get("address") == m.group(1), "keys show gives the address keys new printed", k)
    t.eq(k.get("address"), address_of(bytes.fromhex(k.get("public_key", "00"))),
         "the address derives from the public key (independent derivation)")
    r = run_cli(["keys", "list", "--home", home, "--json"])
    names = sorted(x["name"] for x in json.loads(r.stdout)) if r.returncode == 0 else []
    t.eq(names, ["carol", "node"], "keys list --json lists every key of the home")
    r = run_cli(["keys", "list", "--home", home])
    t.ok(r.returncode == 0 and re.search(r"^carol\s+lb1", r.stdout, re.M), "keys list prints names with addresses", r.stdout)
    r = run_cli(["keys", "new", "carol", "--home", home])
    t.ok(r.returncode == 1 and "already exists" in r.stderr, "keys new with a taken name is refused", r.stderr)
    r = run_cli(["keys", "new", "a b", "--home", home])
    t.ok(r.returncode == 1 and "not a usable key name" in r.stderr, "keys new with a bad name is refused", r.stderr)
    r = run_cli(["keys", "show", "nobody", "--home", home])
    t.ok(r.returncode == 1 and "no key named 'nobody'" in r.stderr and "keys list" in r.stderr,
         "keys show of an unknown key says so and what to do", r.stderr)
    r = run_cli(["keys", "frob", "--home", home])
    t.eq(r.returncode, 2, "keys with an unknown subcommand: exit 2")


def start_node(args, extra_env=None):
    e = env()
    e.update(extra_env or {})
    return subprocess.run([BIN, "node"] + args, capture_output=True, text=True, env=e, timeout=60)


def node_failures(t, tmp):
    r = start_node(["--home", os.path.join(tmp, "nohome"), "--api-port", "0"])
    t.ok(r.returncode == 1 and "not a node home" in r.stderr and "leben init" in r.stderr,
         "node without a home says how to make one", r.stderr)
    node = Node()
    try:
        r = start_node(["--home", node.home, "--api-port", "0"], {"LEBEN_PASSPHRASE": "wrong"})
        t.ok(r.returncode == 1 and "wrong passphrase" in r.stderr, "node with a wrong passphrase is refused", r.stderr)
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = start_node(["--home", node.home, "--api-port", str(port)])
        s.close()
        t.ok(r.returncode == 1 and "port %d" % port in r.stderr and "--api-port" in r.stderr,
             "node on a taken port names the port and the option", r.stderr)
        cfg = os.path.join(node.home, "config.json")
        good = open(cfg).read()
        with open(cfg, "w") as f:
            f.write(good.replace('"block_max_txs"', '"block_max_tx"'))
        r = start_node(["--home", node.home, "--api-port", "0"])
        t.ok(r.returncode == 1 and "block_max_tx" in r.stderr, "node with an unknown setting names it", r.stderr)
        with open(cfg, "w") as f:
            f.write(good)
    finally:
        node.cleanup()


def verify(t):
    node = Node()
    try:
        r = run_cli(["verify", "--home", node.home])
        t.ok(r.returncode == 1 and "missing" in r.stderr, "verify of a home never started: exit 1, says what is missing",
             r.stderr)
        node.start()
        hx = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "2"])[0]
        st, j = node.post_txs({"tx": hx})
        t.ok(st == 202 and node.wait_tx(j.get("id")) is not None, "a transfer commits", (st, j))
        r = run_cli(["verify", "--home", node.home, "--json"])
        t.ok(r.returncode == 0 and json.loads(r.stdout).get("ok") is True, "verify --json on the running node: ok",
             r.stdout + r.stderr)
        node.stop()
        db = sqlite3.connect(os.path.join(node.home, "chains", "settlement.db"))
        k, v = db.execute("SELECT k, v FROM state WHERE substr(k, 2, 3) = X'62616c' LIMIT 1").fetchone()
        db.execute("UPDATE state SET v = ? WHERE k = ?", (bytes(v[:-1]) + bytes([v[-1] ^ 1]), k))
        db.commit()
        db.close()
        r = run_cli(["verify", "--home", node.home])
        t.ok(r.returncode == 1 and "stored state" in r.stderr and "'bal'" in r.stderr,
             "verify finds an edited balance in the stored state", r.stderr)
        r = run_cli(["verify", "--home", node.home, "--json"])
        j = json.loads(r.stdout) if r.stdout.strip() else {}
        t.ok(r.returncode == 1 and j.get("ok") is False and j.get("code") == "LB_ECORRUPT",
             "verify --json reports LB_ECORRUPT", r.stdout)
    finally:
        node.cleanup()


def run_script(t, home):
    """scripts/run.sh (make run): start it, run the tour it prints, stop it with SIGINT."""
    port = free_port()
    e = env()
    e["LEBEN_PASSPHRASE"] = "demo"
    p = subprocess.Popen([os.path.join(ROOT, "scripts", "run.sh"), BIN, home, str(port)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=e, text=True)
    out = []
    ready = threading.Event()

    def drain():
        for line in p.stdout:
            out.append(line)
            if "API listening on" in line:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        t.ok(ready.wait(60) and p.poll() is None, "run.sh starts a demo node", "".join(out[-20:]))
        text = "".join(out)
        t.ok("http://127.0.0.1:%d" % port in text, "run.sh prints the API URL with the chosen port", text)
        tour = text.split("In another terminal:")[1].split("Stop the node")[0] if "In another terminal:" in text else ""
        lines = [ln.strip() for ln in tour.splitlines() if ln.strip()]
        t.ok(len(lines) >= 8 and lines[0].startswith("export ") and lines[1].startswith("alias leben="),
             "the tour starts with the environment and an alias", lines)
        script = "set -e\nshopt -s expand_aliases\n" + "\n".join(lines) + "\n"
        r = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300,
                           env={k: v for k, v in os.environ.items() if not k.startswith("LEBEN_")})
        t.ok(r.returncode == 0, "every command of the printed tour succeeds", r.stdout[-1500:] + r.stderr[-1500:])
        t.ok("Committed in block" in r.stdout and "ok: every block" in r.stdout and '"chains"' in r.stdout,
             "the tour's txs commit, verify passes and the API answers", r.stdout[-1500:])
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    t.eq(p.returncode, 0, "the demo node stops cleanly on Ctrl-C")


if __name__ == "__main__":
    main()
