#!/usr/bin/env python3
"""A node's API over HTTPS with mutual TLS (`leben node --api-tls`): a member's certificate
from the consortium CA is answered; a client without a certificate, a client with a
certificate from a foreign CA, a plain-HTTP client and a TLS 1.2 client are refused (curl and
python's ssl as independent clients), and a refused request changes nothing. The CLI presents
<home>/tls by default, or --tls-cert/--tls-key/--tls-ca and LEBEN_TLS_*."""
import datetime
import json
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import BIN, Node, curl, curl_tls, env, free_port, run_cli, run_node  # noqa: E402


def make_crl(ca_dir, revoked_pems, path, days=1):
    """A CRL of the CA in ca_dir (python's cryptography, independent of the node) listing the
    certificates in revoked_pems, valid from yesterday for `days` days (negative: expired)."""
    ca = x509.load_pem_x509_certificate(open(os.path.join(ca_dir, "ca.pem"), "rb").read())
    key = serialization.load_pem_private_key(open(os.path.join(ca_dir, "ca.key"), "rb").read(),
                                             None)
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
         .last_update(now - datetime.timedelta(days=2)).next_update(now + datetime.timedelta(days=days)))
    for pem in revoked_pems:
        c = x509.load_pem_x509_certificate(open(pem, "rb").read())
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(
            c.serial_number).revocation_date(now - datetime.timedelta(days=1)).build())
    with open(path, "wb") as f:
        f.write(b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))


def crl_checks(t, node, other, fca):
    tls = os.path.join(node.home, "tls")
    ca = os.path.join(tls, "ca.pem")
    member, second = curl_tls(tls), curl_tls(other, ca)
    crl = os.path.join(node.home, "revoked.crl")
    make_crl(node.ca_dir, [os.path.join(other, "node.pem")], crl)
    node.stop()
    node.start(extra=["--tls-crl", crl])
    rc, code, body = curl(node.url + "/v1/status", *second)
    t.ok(code == 403 and body["error"]["code"] == "LB_EUNAUTH" and "revoked" in
         body["error"]["message"], "with --tls-crl, a member whose certificate is on the CRL "
         "is refused", (rc, code, body))
    rc, code, body = curl(node.url + "/v1/status", *member)
    t.ok(code == 200 and "network_id" in body, "an unrevoked member is still answered",
         (rc, code, body))
    node.stop()
    make_crl(node.ca_dir, [], crl, days=-1)
    node.start(extra=["--tls-crl", crl])
    rc, code, body = curl(node.url + "/v1/status", *member)
    t.ok(code == 403 and "out of date" in body["error"]["message"],
         "with an expired CRL every client is refused", (rc, code, body))
    node.stop()
    make_crl(fca, [], crl)
    port = free_port()
    r = subprocess.run([BIN, "node", "--home", node.home, "--api-port", str(port), "--api-tls",
                        "--tls-crl", crl], capture_output=True, text=True, env=env(), timeout=60)
    t.ok(r.returncode == 1 and "not signed by the consortium CA" in r.stderr,
         "a CRL of another CA is refused at start", r.stderr)
    node.start()


def main():
    run_node(run, tls=True)


def run(t, node):
    tls = os.path.join(node.home, "tls")
    ca = os.path.join(tls, "ca.pem")
    member = curl_tls(tls)
    # a second member of the same consortium (its own certificate, another name)
    other = os.path.join(node.home, "other")
    run_cli(["ca", "issue", "--dir", node.ca_dir, "--name", "member-2", "--out", other])
    # an outsider: a certificate from a CA of its own
    fca, fout = os.path.join(node.home, "foreign-ca"), os.path.join(node.home, "foreign")
    run_cli(["ca", "init", "--dir", fca, "--name", "foreign"])
    run_cli(["ca", "issue", "--dir", fca, "--name", "intruder", "--out", fout])

    st, j = node.get("/v1/status")
    t.ok(st == 200 and isinstance(j, dict) and len(j.get("network_id", "")) == 64,
         "python ssl with the node's own member certificate gets /v1/status", (st, j))
    network = j.get("network_id") if isinstance(j, dict) else None

    rc, code, body = curl(node.url + "/v1/status", *curl_tls(other, ca))
    t.ok(rc == 0 and code == 200 and isinstance(body, dict) and body.get("network_id") == network,
         "curl with another member's certificate from the consortium CA is answered",
         (rc, code, body))

    rc, code, body = curl(node.url + "/v1/status", "--cacert", ca)
    t.ok(code == 403 and isinstance(body, dict) and body["error"]["code"] == "LB_EUNAUTH"
         and "network_id" not in json.dumps(body),
         "curl without a client certificate is refused (403 LB_EUNAUTH, no data)", (rc, code, body))

    rc, code, body = curl(node.url + "/v1/status", *curl_tls(fout, ca))
    t.ok(code == 403 and isinstance(body, dict) and body["error"]["code"] == "LB_EUNAUTH"
         and "consortium CA" in body["error"]["message"],
         "curl with a certificate from a foreign CA is refused (403 LB_EUNAUTH)", (rc, code, body))

    rc, code, body = curl("http://127.0.0.1:%d/v1/status" % node.port)
    t.ok(code != 200 and "network_id" not in str(body),
         "a plain-HTTP client gets no answer from the HTTPS port", (rc, code, body))

    rc, code, body = curl(node.url + "/v1/status", "--tls-max", "1.2", *member)
    t.ok(rc != 0 and code == 0, "a TLS 1.2 client fails the handshake (TLS 1.3 only)",
         (rc, code, body))

    # a refused POST changes nothing: the tx is unknown to the node afterwards
    hx = node.sign("transfer", ["--from", "alice", "--to", "bob", "--amount", "1"])[0]
    rc, code, body = curl(node.url + "/v1/txs", *curl_tls(fout, ca), data={"tx": hx})
    rc2, code2, acc = curl(node.url + "/v1/accounts/" + node.address("bob"), *member)
    # had the refused post been admitted, the same tx would now be a duplicate
    st, j = node.post_txs({"tx": hx})
    final = node.wait_tx(j.get("id", "")) if st in (200, 202) and isinstance(j, dict) else None
    t.ok(code == 403 and st in (200, 202) and final and final.get("status") == "committed",
         "a tx posted with a foreign certificate is refused and not admitted (the same tx "
         "commits afterwards from a member)", (code, body, st, j, final))
    rc2, code2, acc = curl(node.url + "/v1/accounts/" + node.address("bob"), *member)

    # the CLI: <home>/tls by default for an https URL
    r = run_cli(["query", "status", "--home", node.home, "--node", node.url, "--json"])
    ok = r.returncode == 0 and json.loads(r.stdout or "{}").get("network_id") == network
    t.ok(ok, "leben query status presents <home>/tls by default", r.stdout + r.stderr)
    r = run_cli(["query", "status", "--home", node.home, "--node", node.url, "--tls-cert",
                 os.path.join(fout, "node.pem"), "--tls-key", os.path.join(fout, "node.key")])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr and "network_id" not in r.stdout
         and "hint" not in r.stderr,
         "leben with --tls-cert/--tls-key of a foreign CA is refused", r.stdout + r.stderr)
    e = env()
    e["LEBEN_TLS_CERT"] = os.path.join(other, "node.pem")
    e["LEBEN_TLS_KEY"] = os.path.join(other, "node.key")
    r = subprocess.run([BIN, "query", "status", "--home", node.home, "--node", node.url,
                        "--json"], capture_output=True, text=True, env=e, timeout=60)
    t.ok(r.returncode == 0 and json.loads(r.stdout or "{}").get("network_id") == network,
         "LEBEN_TLS_CERT/KEY of another member are accepted", r.stdout + r.stderr)
    r = run_cli(["query", "status", "--home", node.home, "--node", node.url, "--tls-ca",
                 os.path.join(fca, "ca.pem")])
    t.ok(r.returncode == 1 and "LB_EUNAUTH" in r.stderr,
         "the CLI refuses a node whose certificate is not from the CA it trusts", r.stderr)
    r = run_cli(["tx", "transfer", "--from", "alice", "--to", "bob", "--amount", "1", "--wait",
                 "--home", node.home, "--node", node.url])
    rc2, code2, acc2 = curl(node.url + "/v1/accounts/" + node.address("bob"), *member)
    t.ok(r.returncode == 0 and code2 == 200 and acc2 != acc,
         "leben tx over mutual TLS commits a transfer", (r.stdout + r.stderr, acc, acc2))

    crl_checks(t, node, other, fca)

    # a node asked for --api-tls without its certificate does not start
    bare = Node(tls=False)
    try:
        r = subprocess.run([BIN, "node", "--home", bare.home, "--api-port", str(free_port()),
                            "--api-tls"], capture_output=True, text=True, env=env(), timeout=60)
        t.ok(r.returncode == 1 and "node certificate" in r.stderr and "ca issue" in r.stderr,
             "leben node --api-tls without <home>/tls refuses to start and says what to do",
             r.stderr)
    finally:
        bare.cleanup()


if __name__ == "__main__":
    main()
