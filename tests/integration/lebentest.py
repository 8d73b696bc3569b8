"""Helpers for LEBEN integration tests (python3 standard library only): TAP output, a real
`leben node` process in a temporary home, raw HTTP to its API and runs of the `leben` CLI.

Environment: LEBEN_BIN (the built binary), LEBEN_ROOT (repository root)."""

import atexit
import hashlib
import http.client
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import termios
import threading
import time
import urllib.error
import urllib.request

ROOT = os.environ.get("LEBEN_ROOT") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("LEBEN_BIN") or os.path.join(ROOT, "build", "leben")
PASSPHRASE = "integration-test-passphrase"


_taps = []  # every Tap of the process, for scratch_dir


class Tap:
    """Numbered TAP lines; failures print diagnostics as '#' comments."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        _taps.append(self)

    def ok(self, cond, name, diag=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines()[:40]:
                    print("#   " + line, flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def scratch_dir(prefix):
    """A temporary directory for a test that runs its own nodes: removed when the process
    exits, unless a check failed (then kept and named for inspection)."""
    d = tempfile.mkdtemp(prefix=prefix)

    def end():
        if any(t.failed for t in _taps):
            print("# kept %s for inspection" % d, flush=True)
        else:
            shutil.rmtree(d, ignore_errors=True)
    atexit.register(end)
    return d


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def env():
    e = dict(os.environ)
    e["LEBEN_PASSPHRASE"] = PASSPHRASE
    e.pop("LEBEN_NODE", None)
    e.pop("LEBEN_HOME", None)
    return e


def blake2b256(data, domain=None):
    h = hashlib.blake2b(digest_size=32)
    if domain is not None:
        h.update(domain.encode() + b"\0")
    h.update(data)
    return h.digest()


# ---- bech32m (BIP-350), an independent encoder of account addresses -----------------------

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk


def bech32m_encode(hrp, data):
    bits, acc, out = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    exp = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = _polymod(exp + out + [0] * 6) ^ 0x2BC830A3
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[d] for d in out + chk)


def addr_bytes(addr):
    """Decode an lb1... bech32m address into its 20 bytes (independent decoder)."""
    cs = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    data = [cs.index(c) for c in addr[3:-6]]
    acc, bits, out = 0, 0, bytearray()
    for d in data:
        acc = (acc << 5) | d
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def address_of(pubkey):
    return bech32m_encode("lb", blake2b256(pubkey, "LEBEN-addr-v1")[:20])


def address_bytes(addr):
    """The 20 bytes of an lb1... address (data part of the bech32m string; checksum not
    checked), decoded independently of the C code."""
    acc, bits, out = 0, 0, bytearray()
    for c in addr[3:-6]:
        acc = (acc << 5) | _CHARSET.index(c)
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    return bytes(out)


def salt_key(home, asset):
    """The owner's salt key of an asset (hex id) in home (<home>/exchange/salts/ASSET.key)."""
    with open(os.path.join(home, "exchange", "salts", asset + ".key"), "rb") as f:
        return f.read()


def patient_commitment(key, asset, local):
    """lb_xchg_patient_commit (docs/exchange.md), written out independently of the C code: the
    commitment (hex) naming local id `local` of asset (hex) under the owner's salt key."""
    a = bytes.fromhex(asset)
    salt = blake2b256(key + a + local.encode(), "LEBEN-patient-salt-v1")
    return blake2b256(a + salt + local.encode(), "LEBEN-patient-v2").hex()


def uvarint(n):
    """Unsigned LEB128 in its shortest form (the canonical codec's varint), independent of
    the C codec."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tls_context(tls_dir):
    """Client SSL context of a member: TLS 1.3, tls_dir/node.pem and node.key as the client
    certificate, tls_dir/ca.pem (the consortium CA) as the only trust anchor."""
    ctx = ssl.create_default_context(cafile=os.path.join(tls_dir, "ca.pem"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(os.path.join(tls_dir, "node.pem"), os.path.join(tls_dir, "node.key"))
    return ctx


def install_tls(tls_dir):
    """Make urllib.request.urlopen present tls_dir's member certificate on https URLs."""
    urllib.request.install_opener(urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=tls_context(tls_dir))))


def curl_tls(tls_dir, ca=None):
    """curl's options presenting the member certificate in tls_dir (node.pem, node.key) and
    trusting ca (default tls_dir/ca.pem)."""
    return ["--cacert", ca or os.path.join(tls_dir, "ca.pem"), "--cert",
            os.path.join(tls_dir, "node.pem"), "--key", os.path.join(tls_dir, "node.key")]


def curl(url, *args, data=None):
    """(exit code, HTTP status or 0, parsed JSON body or raw text) of one curl request (an
    HTTP client independent of python's); args: curl's options (curl_tls for a member)."""
    cmd = ["curl", "-s", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}"] + list(args)
    if data is not None:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(data)]
    r = subprocess.run(cmd + [url], capture_output=True, text=True)
    body, _, code = r.stdout.rpartition("\n")
    try:
        body = json.loads(body)
    except ValueError:
        pass
    return r.returncode, int(code or 0), body


class Node:
    """A `leben node` in its own temporary home. tls: its API serves HTTPS with mutual TLS
    (a consortium CA of its own in ca_dir, the node's certificate in <home>/tls)."""

    def __init__(self, demo=True, tls=False):
        self.home = tempfile.mkdtemp(prefix="leben-it-")
        self.proc = None
        self.port = None
        self.log = []
        self.tls = tls
        self.ca_dir = None
        r = run_cli(["init", "--home", self.home] + (["--demo"] if demo else []))
        if r.returncode != 0:
            raise RuntimeError("leben init failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr))
        if tls:
            self.ca_dir = os.path.join(self.home, "ca")
            for args in (["ca", "init", "--dir", self.ca_dir, "--name", "it-consortium"],
                         ["ca", "issue", "--dir", self.ca_dir, "--name", "it-node", "--home",
                          self.home]):
                r = run_cli(args)
                if r.returncode != 0:
                    raise RuntimeError("leben %s failed: %s" % (args[1], r.stderr))

    @classmethod
    def attach(cls, home, tls=False):
        """A Node over an existing home (one a script made and left, say): nothing initialised,
        not started; start() runs a node on it, cleanup() removes the home."""
        node = cls.__new__(cls)
        node.home, node.proc, node.port, node.log, node.tls, node.ca_dir = \
            home, None, None, [], tls, None
        return node

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def set_config(self, **settings):
        """Merge settings into <home>/config.json (read at the next start)."""
        path = os.path.join(self.home, "config.json")
        cfg = {}
        if os.path.exists(path):
            with open(path) as f:
                cfg = json.load(f)
        cfg.update(settings)
        with open(path, "w") as f:
            json.dump(cfg, f)

    def start(self, timeout=60, extra=()):
        """Start the node on a port it chooses itself (--api-port 0: bound by the node, so no
        other program can take it between a choice and the bind) and read it from the
        "API listening on URL" line."""
        self.port = None
        self.log = []
        self.proc = subprocess.Popen([BIN, "node", "--home", self.home, "--api-port", "0"]
                                     + (["--api-tls"] if self.tls else []) + list(extra),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=env(), text=True)
        ready = threading.Event()

        def drain(f):
            for line in f:
                self.log.append(line)
                m = re.search(r"API listening on https?://\S+:(\d+)", line)
                if m and not ready.is_set():
                    self.port = int(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=drain, args=(self.proc.stderr,), daemon=True).start()
        if not ready.wait(timeout) or self.proc.poll() is not None or not self.port:
            raise RuntimeError("the node did not start:\n" + "".join(self.log[-30:]))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    # -- HTTP ------------------------------------------------------------------------------

    def http(self, method, path, body=None, headers=None, timeout=60):
        """(status, parsed JSON or raw text, response headers)."""
        if self.tls:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                            context=tls_context(os.path.join(self.home, "tls")))
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        raw = r.read().decode("utf-8", "replace")
        c.close()
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw
        return r.status, data, dict(r.getheaders())

    def get(self, path):
        return self.http("GET", path)[:2]

    def post_txs(self, body):
        return self.http("POST", "/v1/txs", body)[:2]

    def key(self, name):
        with open(os.path.join(self.home, "keys", name + ".key")) as f:
            return json.load(f)

    def address(self, name):
        return self.key(name)["address"]

    def account(self, name_or_addr):
        addr = name_or_addr if name_or_addr.startswith("lb1") else self.address(name_or_addr)
        st, j = self.get("/v1/accounts/" + addr)
        if st != 200:
            raise RuntimeError("account %s: HTTP %d %r" % (addr, st, j))
        return j

    def wait_tx(self, txid, timeout=60):
        """Final JSON of a tx once it is no longer pending (None on timeout)."""
        end = time.time() + timeout
        while time.time() < end:
            st, j = self.get("/v1/txs/" + txid)
            if st == 200 and j.get("status") not in (None, "pending"):
                return j
            time.sleep(0.05)
        return None

    def cli(self, args, **kw):
        return run_cli(args + ["--home", self.home, "--node", self.url], **kw)

    def cli_json(self, args):
        """Run the CLI with --json: (result, parsed stdout or None)."""
        r = self.cli(args + ["--json"])
        try:
            return r, json.loads(r.stdout)
        except ValueError:
            return r, None

    def sign(self, kind, args):
        """Signed tx hex from `leben tx KIND ... --print` (one per line)."""
        r = self.cli(["tx", kind] + args + ["--print"])
        if r.returncode != 0:
            raise RuntimeError("leben tx %s --print failed: %s" % (kind, r.stderr))
        return r.stdout.split()


def run_node(run, genesis=None, tmp=None, t=None, verify=None, **kw):
    """A TAP test over one Node(**kw): genesis(g, node) may edit its genesis.json (a dict) before
    the start; run(t, node) runs, or run(t, node, d) with tmp (a prefix): d a temporary
    directory made for the test, removed after unless a check failed (then kept and named for
    inspection). verify: after run, the node stops and `leben verify` of its home must pass
    (a check of that name). The node is cleaned up whatever happens; t: a Tap that already
    holds checks (a new one when None); exits with the TAP result."""
    t = t or Tap()
    node = Node(**kw)
    d, broke = None, False
    try:
        if genesis:
            gpath = os.path.join(node.home, "genesis.json")
            with open(gpath) as f:
                g = json.load(f)
            genesis(g, node)
            with open(gpath, "w") as f:
                json.dump(g, f)
        if tmp is not None:
            d = tempfile.mkdtemp(prefix=tmp)
        node.start()
        if d is None:
            run(t, node)
        else:
            run(t, node, d)
        if verify:
            node.stop()
            r = run_cli(["verify", "--home", node.home])
            t.ok(r.returncode == 0, verify, r.stdout + r.stderr)
    except BaseException as e:
        broke = not (isinstance(e, SystemExit) and not e.code)  # an exception, or a failed exit
        raise
    finally:
        node.cleanup()
        if d is not None:
            if t.failed or broke:
                print("# kept %s for inspection" % d)
            else:
                shutil.rmtree(d, ignore_errors=True)
    t.done()


def tty_run(args, passphrase, timeout=120):
    """`leben args` on a terminal (a pty) (no LEBEN_PASSPHRASE): answers each passphrase prompt once echo
    is off; gives (exit code, what the terminal showed, number of prompts)."""
    pid, fd = pty.fork()
    if pid == 0:
        e = env()
        e.pop("LEBEN_PASSPHRASE", None)
        os.execve(BIN, [BIN] + args, e)
    out, prompts, end = b"", 0, time.time() + timeout
    while time.time() < end:
        if fd in select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        while out.count(b"Passphrase for key") > prompts and time.time() < end:
            if not termios.tcgetattr(fd)[3] & termios.ECHO:
                prompts += 1
                os.write(fd, passphrase.encode() + b"\n")
            else:
                time.sleep(0.02)
    if time.time() >= end:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace"), prompts


def run_cli(args, timeout=300, input=None):
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=env(), timeout=timeout,
                          input=input)


# -- networks of scripts/cluster.sh ------------------------------------------------------------

def cluster_env(passphrase, **extra):
    """Environment for a scripts/cluster.sh network: its passphrase, this build's binary, none of
    the caller's LEBEN_NODE/LEBEN_HOME, and the extra variables given (LEBEN_CLUSTER_KINDS=...)."""
    e = dict(os.environ)
    e["LEBEN_PASSPHRASE"] = passphrase
    e["LEBEN_BIN"] = BIN
    e.pop("LEBEN_NODE", None)
    e.pop("LEBEN_HOME", None)
    e.update(extra)
    return e


CLUSTER_SH = os.path.join(ROOT, "scripts", "cluster.sh")


def cluster_cli(env, args, home=None, api=None, timeout=180):
    """`leben ARGS [--home HOME] [--node API]` with a cluster's environment (cluster_env)."""
    a = [BIN] + args + (["--home", home] if home else []) + (["--node", api] if api else [])
    return subprocess.run(a, capture_output=True, text=True, env=env, timeout=timeout)


def run_cluster(t, prefix, env, run, n=3, tls_node=1, after=None, by_script=False):
    """A scripts/cluster.sh network of n members in a fresh directory: run(t, d, apis) with
    the nodes' API URLs, the CLI and urllib presenting node tls_node's member certificate
    (None: none); the network is taken down whatever happens, then after(t, d) runs (say,
    `leben verify` of the homes). The directory is removed unless a test failed. Ends the
    TAP output (t.done()).
    by_script: the test's own script brings the network up (an examples/apps script run with
    env, to which CLUSTER=d and KEEP=1 are added): run(t, env, d) is called with no network
    started and apis unknown; the network the script left running is taken down as above."""
    d = tempfile.mkdtemp(prefix=prefix)
    if by_script:
        env = dict(env, CLUSTER=d, KEEP="1")
        try:
            run(t, env, d)
        finally:
            subprocess.run([CLUSTER_SH, "down", d], capture_output=True, env=env, timeout=120)
        return cluster_end(t, d, after)
    os.rmdir(d)
    r = subprocess.run([CLUSTER_SH, "up", str(n), d], capture_output=True, text=True, env=env,
                       timeout=300)
    apis = [line.split(" ", 1)[1] for line in r.stdout.splitlines() if line.startswith("api: ")]
    if not t.ok(r.returncode == 0 and len(apis) == n, "cluster.sh up %d" % n,
                r.stdout + r.stderr):
        subprocess.run([CLUSTER_SH, "down", d], capture_output=True, env=env, timeout=120)
        t.done()
    if tls_node:
        install_tls(os.path.join(d, "node-%d" % tls_node, "tls"))
    try:
        run(t, d, apis)
    finally:
        subprocess.run([CLUSTER_SH, "down", d], capture_output=True, env=env, timeout=120)
    cluster_end(t, d, after)


def cluster_end(t, d, after):
    """run_cluster's end: after(t, d), the directory kept when a test failed, t.done()."""
    if after:
        after(t, d)
    if t.failed:
        print("# kept %s for inspection" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)
    t.done()


def read_cluster_env(d):
    """The variables cluster.sh wrote to DIR/cluster.env (endpoints, ports)."""
    out = {}
    with open(os.path.join(d, "cluster.env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.strip().split("=", 1)
                out[k] = v
    return out


def offer_tables_on_cluster(at, atj, addr, cluster, files, name, min_cohort, legal_basis):
    """The three-owner setup of the studies across a cluster.sh network of three: every node key
    gets 20 CSC and 20 ASC (it pays the settlement fees of its escrow claims and releases),
    alice 20 CSC (her computing fees); files[k] is registered (`data add`, name % (k + 1)),
    offered opt-out under legal_basis with min_cohort and kept at node k+1 under
    exchange/assets/ASSET.csv; the clinic owns the first (its node holds an execution right on
    it), the node keys of institutions 2 and 3 own theirs. at(i, args) / atj(i, args) run the
    CLI at institution i, addr(i, key) gives an address. Returns (node addresses, owner key
    names, asset ids)."""
    n = [addr(i, "node") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        for asset in ("csc", "asc"):
            at(1, ["tx", "transfer", "--from", "clinic", "--to", n[i - 1], "--amount", "20",
                   "--asset", asset, "--wait"])
    at(1, ["tx", "transfer", "--from", "clinic", "--to", addr(1, "alice"), "--amount", "20",
           "--asset", "csc", "--wait"])
    owner = ["clinic", "node", "node"]
    assets = []
    for k in range(3):
        i = k + 1
        reg = atj(i, ["data", "add", files[k], "--key", owner[k], "--price", "0", "--name",
                      name % i, "--allow-near"])["tx"]
        # a business block after the registration, which the offer cites it through
        at(i, ["tx", "identity", "--from", owner[k], "--role", "provider", "--name",
               "institution-%d" % i, "--wait"])
        a = atj(i, ["exchange", "offer", "--from", owner[k], "--asset-tx", reg, "--price", "0",
                    "--min-cohort", str(min_cohort), "--data", files[k], "--opt-out",
                    "--legal-basis", legal_basis])["asset"]
        assets.append(a)
        d = os.path.join(cluster, "node-%d" % i, "exchange", "assets")
        os.makedirs(d, exist_ok=True)
        shutil.copy(files[k], os.path.join(d, a + ".csv"))
    at(1, ["exchange", "grant", "--from", "clinic", "--asset", assets[0], "--executor", n[0],
           "--kind", "own"])  # the clinic's own node: the study step runs local
    return n, owner, assets


def http_json(url, method="GET", body=None, timeout=30, ctx=None):
    """One request with a JSON body: (status, reply decoded from JSON, or as text when an error
    reply is not JSON); (0, None) when nothing answers (a node stopped or restarting)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"null")
        except ValueError:
            return e.code, raw.decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return 0, None


def tls_refused(url, ctx):
    """True when a request presenting ctx's certificate is refused (handshake or 403)."""
    st, _ = http_json(url, ctx=ctx, timeout=10)  # 0: the handshake failed
    return st in (0, 403)


def tls_files(tls_dir):
    """A member's TLS files for handshake(): {"ca", "cert", "key"} in tls_dir."""
    return {"ca": os.path.join(tls_dir, "ca.pem"), "cert": os.path.join(tls_dir, "node.pem"),
            "key": os.path.join(tls_dir, "node.key")}


def handshake(hostport, files):
    """Complete a TLS handshake with files' certificate (tls_files) and read: False when the
    server (a node's peer link) refuses the certificate."""
    host, port = hostport.rsplit(":", 1)
    c2 = ssl.create_default_context(cafile=files["ca"])
    c2.load_cert_chain(files["cert"], files["key"])
    c2.check_hostname = False
    try:
        with socket.create_connection((host, int(port)), timeout=10) as s:
            with c2.wrap_socket(s) as t:
                t.settimeout(3)
                try:
                    t.sendall(b"x")
                    t.recv(1)  # TLS 1.3: a refused client certificate shows here
                except socket.timeout:
                    return True
                except (ssl.SSLError, ConnectionError, OSError):
                    return False
                return True
    except (ssl.SSLError, ConnectionError, OSError):
        return False


def wait_for(pred, timeout, step=0.2):
    """Calls pred until it gives a true value, returned, or timeout seconds pass (its last value).
    An exception counts as "not yet": processes that restart refuse connections for a while."""
    end = time.time() + timeout
    while True:
        try:
            v = pred()
        except Exception:  # noqa: BLE001
            v = None
        if v or time.time() >= end:
            return v
        time.sleep(step)
