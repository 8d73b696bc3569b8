#!/usr/bin/env python3
"""Bench: `leben fhir import` of an NDJSON file of N FHIR resources (1 Patient : 4
Observations) into a real node (chunks of 5000 lines, signed by a member key); prints the
CLI's summary, the rate, the peak RSS of the CLI and of the node, and a search over the result.
Usage: bench/fhir_import.py [N]   (default 1,000,000; not part of make check)"""
import http.client
import json
import subprocess
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from lebentest import BIN, Node, env  # noqa: E402
from test_fhir import Key, call  # noqa: E402


def hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) // 1024
    return 0


def lines(n):
    for i in range(n):
        if i % 5 == 0:
            yield json.dumps({"resourceType": "Patient", "id": "p%d" % (i // 5), "gender": "male",
                              "birthDate": "19%02d-0%d-1%d" % (i % 100, i % 9 + 1, i % 10)})
        else:
            yield json.dumps({"resourceType": "Observation", "id": "o%d" % i, "status": "final",
                              "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                              "subject": {"reference": "Patient/p%d" % (i // 5)},
                              "effectiveDateTime": "2023-0%d-1%dT10:00:00Z" % (i % 9 + 1, i % 10),
                              "valueQuantity": {"value": 60 + i % 40, "unit": "/min"}})


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    path = "/tmp/leben-fhir-bench.ndjson"
    with open(path, "w") as f:
        for l in lines(n):
            f.write(l + "\n")
    node = Node()
    member = Key(b"\x11" * 32)
    # a records-desk key the CLI opens, listed as a member of the institution
    r = subprocess.run([BIN, "keys", "new", "member", "--home", node.home, "--json"], env=env(),
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit("leben keys new: " + r.stderr)
    os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
    with open(os.path.join(node.home, "fhir", "members"), "w") as f:
        f.write(json.loads(r.stdout)["public_key"] + "\n" + member.pk + "\n")
    try:
        node.start()
        t0 = time.time()
        r = subprocess.run(["/usr/bin/time", "-f", "cli-peak-rss-kb %M", BIN, "fhir", "import", path,
                            "--key", "member", "--home", node.home, "--node", node.url],
                           env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        dt = time.time() - t0
        sys.stdout.write(r.stdout)
        cli_kb = [l for l in r.stderr.splitlines() if l.startswith("cli-peak-rss-kb")]
        print("leben fhir import: %.1f s for %d lines (%.0f resources/s); peak RSS: leben fhir "
              "import %d MiB, node %d MiB" % (dt, n, n / dt, int(cli_kb[0].split()[1]) // 1024
                                              if cli_kb else -1, hwm(node.proc.pid)))
        # the export streams: the node's peak RSS must not grow with the file
        before = hwm(node.proc.pid)
        t2 = time.time()
        path_q = "/fhir/$export?_type=Observation"
        h = member.headers("GET", "/fhir/$export")
        conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=600)
        conn.request("GET", path_q, headers=h)
        resp = conn.getresponse()
        size = lines_out = 0
        while True:
            b = resp.read(1 << 20)
            if not b:
                break
            size += len(b)
            lines_out += b.count(b"\n")
        conn.close()
        print("export of the Observations (HTTP %d): %d lines, %.0f MB in %.1f s; node peak RSS "
              "%d MiB before, %d MiB after" % (resp.status, lines_out, size / 1e6, time.time() - t2,
                                               before, hwm(node.proc.pid)))
        t1 = time.time()
        st, j = call(node, member, "GET", "/fhir/Observation?patient=p777&date=ge2023-05-01")
        print("search patient+date over the imported store: %d matches in %.1f ms" %
              (j["total"], (time.time() - t1) * 1000))
    finally:
        node.cleanup()
        os.unlink(path)


if __name__ == "__main__":
    main()
