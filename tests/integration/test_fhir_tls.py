#!/usr/bin/env python3
"""The FHIR endpoint over mutual TLS (docs/fhir.md, "Who may read what"): the institution is
the organisation (O) in the certificates the consortium CA issued. A client whose certificate
names the node's own institution reads and writes; a member of another institution, and a
member certificate without an institution, are refused with a 403 OperationOutcome even
though the consortium CA signed them (other institutions get results through exchange); a
client with no certificate never gets past the handshake. curl is the independent client."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import Node, Tap, curl, curl_tls, run_cli  # noqa: E402


def main():
    t = Tap()
    node = Node(tls=True)
    try:
        run_cli(["ca", "issue", "--dir", node.ca_dir, "--name", "it-node", "--org", "Hospital-A",
                 "--home", node.home, "--replace"])
        node.start()
        run(t, node)
    finally:
        node.cleanup()
    t.done()


def run(t, node):
    ca = os.path.join(node.home, "tls", "ca.pem")
    certs = {}
    for name, org in (("desk", "Hospital-A"), ("other", "Hospital-B"), ("plain", None)):
        out = os.path.join(node.home, name)
        run_cli(["ca", "issue", "--dir", node.ca_dir, "--name", name, "--out", out] +
                (["--org", org] if org else []))
        certs[name] = curl_tls(out, ca)
    base = node.url + "/fhir"
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "gender": "male"},
         "request": {"method": "PUT", "url": "Patient/p1"}}]}

    # attacks first
    rc, code, body = curl(base + "/Patient/p1", "--cacert", ca)
    t.ok(code == 0 or code == 403, "a client without a certificate gets nothing", (rc, code))
    rc, code, body = curl(base, *certs["other"], data=bundle)
    t.ok(code == 403 and body.get("resourceType") == "OperationOutcome" and
         "Hospital-B" in body["issue"][0]["details"]["text"],
         "another institution's member cannot write (403 OperationOutcome)", (code, body))
    rc, code, body = curl(base + "/Patient/p1", *certs["desk"])
    t.ok(code == 404, "... and wrote nothing", (code, body))
    rc, code, body = curl(base + "/Patient", *certs["plain"])
    t.ok(code == 403 and body.get("resourceType") == "OperationOutcome",
         "a member certificate naming no institution cannot search", (code, body))

    rc, code, body = curl(base, *certs["desk"], data=bundle)
    t.ok(code == 200 and body.get("type") == "transaction-response",
         "a member of the node's institution writes", (code, body))
    rc, code, body = curl(base + "/Patient/p1", *certs["desk"])
    t.ok(code == 200 and body.get("id") == "p1", "... and reads", (code, body))
    rc, code, body = curl(base + "/Patient/p1", *certs["other"])
    t.ok(code == 403 and body["issue"][0]["code"] == "forbidden",
         "another institution's member cannot read the record (403)", (code, body))
    rc, code, body = curl(base + "/Patient?_id=p1", *certs["other"])
    t.ok(code == 403, "... nor search", (code, body))
    rc, code, body = curl(base + "/$export", *certs["other"])
    t.ok(code == 403, "... nor export", (code, body))
    rc, code, body = curl(base + "/metadata", *certs["other"])
    t.ok(code == 200 and body.get("resourceType") == "CapabilityStatement",
         "the CapabilityStatement is public to consortium members", code)


if __name__ == "__main__":
    main()
