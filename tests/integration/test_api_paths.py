#!/usr/bin/env python3
"""Percent-encoded API paths through a real node: each path segment is decoded once (a name
with a space reads as that name), and an escape that is malformed (%zz, a '%' at the end),
decodes to a NUL byte or to a '/' inside a segment is refused with 400 naming it, on /v1 and
on /fhir (as an OperationOutcome); the node goes on serving."""

import http.client
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lebentest import run_node  # noqa: E402


def raw_get(node, path):
    """GET with the path sent byte for byte (http.client does not re-encode it)."""
    c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
    c.putrequest("GET", path, skip_accept_encoding=True)
    c.endheaders()
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, body


def run(t, node):
    st, j = node.get("/v1/surgery/alarms/St%20Mary/Dr%20Who")
    t.ok(st == 200 and j.get("hospital") == "St Mary" and j.get("surgeon") == "Dr Who"
         and j.get("alarms") == [], "an encoded space is decoded in a path segment", j)
    st, j = node.get("/v1/surgery/alarms/St%2520Mary/x")
    t.ok(st == 200 and j.get("hospital") == "St%20Mary", "decoded once: %2520 is '%20'", j)
    r = node.cli(["surgery", "alarms", "--hospital", "St Mary", "--surgeon", "Dr Who"])
    t.ok(r.returncode == 0 and "0 alarms recorded for Dr Who at St Mary" in r.stdout,
         "leben surgery alarms sends a name with a space", r.stdout + r.stderr)

    bad = [("/v1/surgery/alarms/St%zzMary/x", "malformed escape '%zz'", "%zz"),
           ("/v1/surgery/alarms/H1/S1%2", "malformed escape '%2'", "a '%' without two digits"),
           ("/v1/surgery/alarms/H1%00/S1", "NUL byte", "%00"),
           ("/v1/surgery/alarms/H1%2FS1/S2", "'/'", "%2F (a '/' inside a segment)"),
           ("/v1/surgery/alarms/H1%2fS1/S2", "'/'", "%2f")]
    for path, want, what in bad:
        st, body = raw_get(node, path)
        t.ok(st == 400 and want in body and "MALFORMED" in body.upper(),
             "%s is refused with 400 naming it" % what, (st, body))
    st, body = raw_get(node, "/fhir/Patient/a%2Fb")
    t.ok(st == 400 and "OperationOutcome" in body and "'/'" in body,
         "a /fhir path with %2F gets a 400 OperationOutcome", (st, body))
    st, j = node.get("/v1/status")
    t.ok(st == 200, "the node goes on serving", j)


if __name__ == "__main__":
    run_node(run)
