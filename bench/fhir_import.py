#!/usr/bin/env python3
"""Bench: stream an NDJSON file of N FHIR resources (1 Patient : 4 Observations) into a node's
POST /fhir/$import in chunks of 5000 lines, signed by a member key; prints progress, the rate,
and the node's peak RSS (VmHWM) at 10 % and at the end (flat memory: the two stay close).
Usage: bench/fhir_import.py [N]   (default 1,000,000; not part of make check)"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from lebentest import Node  # noqa: E402
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
    os.makedirs(os.path.join(node.home, "fhir"), exist_ok=True)
    with open(os.path.join(node.home, "fhir", "members"), "w") as f:
        f.write(member.pk + "\n")
    try:
        node.start()
        t0 = time.time()
        done = imported = refused = 0
        early = None
        chunk = []
        with open(path, "rb") as f:
            for raw in f:
                chunk.append(raw)
                if len(chunk) == 5000:
                    st, j = call(node, member, "POST", "/fhir/$import?line=%d" % (done + 1), b"".join(chunk))
                    p = {x["name"]: x.get("valueInteger") for x in j["parameter"]}
                    imported += p["imported"]
                    refused += p["refused"]
                    done += len(chunk)
                    chunk = []
                    if early is None and done >= n // 10:
                        early = hwm(node.proc.pid)
                    sys.stderr.write("\r%d / %d resources (%.0f/s)" % (done, n, done / (time.time() - t0)))
            if chunk:
                st, j = call(node, member, "POST", "/fhir/$import", b"".join(chunk))
                imported += j["parameter"][0]["valueInteger"]
                done += len(chunk)
        dt = time.time() - t0
        print("\nimported %d, refused %d in %.1f s (%.0f resources/s); node peak RSS %d MiB at "
              "10 %%, %d MiB at the end" % (imported, refused, dt, imported / dt, early or 0,
                                            hwm(node.proc.pid)))
        t1 = time.time()
        st, j = call(node, member, "GET", "/fhir/Observation?patient=p777&date=ge2023-05-01")
        print("search patient+date over the imported store: %d matches in %.1f ms" %
              (j["total"], (time.time() - t1) * 1000))
    finally:
        node.cleanup()
        os.unlink(path)


if __name__ == "__main__":
    main()
