#!/usr/bin/env python3
"""Chronic-disease monitoring through a real node's API (make bench-monitor).

10,000 patients are enrolled with examples/contracts/chronic_risk.pf; a device-data provider
then sends signed batches of readings (a mix of blood pressure, glucose, heart rate and SpO2
drawn so that about half are graded info or above) as a gateway would. Two phases:
  paced: 10,000 patients x one reading a minute = 167 readings/s for PACED_S seconds
         (batches of 167 every second); node CPU per reading and its CPU share;
  flat out: batches of 500 back to back for FLAT_N readings: the most readings/s.
Latency: from the batch's arrival at the node to the warning's row in the outbox (p50, p99,
from the outbox's own arrived/created times), and the request's round trip seen by the client.
Environment: PATIENTS (10000), PACED_S (20), FLAT_N (50000)."""

import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from lebentest import ROOT, Node  # noqa: E402
from test_monitor import enrol_body, provider_body  # noqa: E402

PATIENTS = int(os.environ.get("PATIENTS", "10000"))
PACED_S = int(os.environ.get("PACED_S", "20"))
FLAT_N = int(os.environ.get("FLAT_N", "50000"))


def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p / 100))] if v else 0


def drain(node, last_id):
    """Latencies (ms) of the outbox entries after last_id, and the last id."""
    lat = []
    while True:
        ob = node.get("/v1/monitor/outbox?after=%d" % last_id)[1]["outbox"]
        if not ob:
            return lat, last_id
        lat += [o["created"] - o["arrived"] for o in ob]
        last_id = ob[-1]["id"]


def main():
    rnd = random.Random(7)
    node = Node(demo=True)
    try:
        node.start()
        sk = Ed25519PrivateKey.generate()
        pk = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw).hex()
        st, _ = node.http("POST", "/v1/monitor/providers", provider_body(sk, pk, "gw", 1))[:2]
        assert st == 201
        src = open(os.path.join(ROOT, "examples", "contracts", "chronic_risk.pf")).read()
        t0 = time.time()
        for i in range(PATIENTS):
            st, j = node.http("POST", "/v1/monitor/patients",
                              enrol_body("p%d" % i, src, pk, pk, sk, pk, dl=3600))[:2]
            assert st == 201, j
        print("enrolled %d patients in %.1f s" % (PATIENTS, time.time() - t0), flush=True)
        clock = [int(time.time() * 1000) - 3 * 86400 * 1000]

        def reading(p):
            clock[0] += 1
            k = rnd.random()
            if k < 0.4:
                v = [rnd.randint(105, 175), 0]
                v[1] = rnd.randint(60, min(110, v[0] - 20))
                return {"patient": "p%d" % p, "code": "85354-9", "value": v, "time": clock[0]}
            if k < 0.6:
                return {"patient": "p%d" % p, "code": "2339-0", "value": rnd.randint(60, 260),
                        "time": clock[0]}
            if k < 0.8:
                return {"patient": "p%d" % p, "code": "8867-4", "value": rnd.randint(48, 125),
                        "time": clock[0]}
            return {"patient": "p%d" % p, "code": "59408-5", "value": rnd.randint(90, 100),
                    "time": clock[0]}

        def send(n):
            body = json.dumps([reading(rnd.randrange(PATIENTS)) for _ in range(n)])
            sig = sk.sign(b"LEBEN-monitor-readings-v1\n" + body.encode()).hex()
            t = time.time()
            st, j = node.http("POST", "/v1/monitor/readings?provider=gw&sig=" + sig, body)[:2]
            assert st == 200 and j["accepted"] == n, (st, str(j)[:400])
            return time.time() - t

        pid = node.proc.pid
        # paced: 167 readings a second
        rate = PATIENTS / 60.0
        c0, t0, rtt, sent = cpu_s(pid), time.time(), [], 0
        for s in range(PACED_S):
            n = int(rate * (s + 1)) - int(rate * s)
            rtt.append(send(n))
            sent += n
            time.sleep(max(0, t0 + s + 1 - time.time()))
        wall, cpu = time.time() - t0, cpu_s(pid) - c0
        lat, last_id = drain(node, 0)
        print("paced: %d readings in %.1f s (%.0f/s), node CPU %.1f%% of a core, %.0f us CPU per "
              "reading; %d warnings, arrival->outbox p50 %d ms p99 %d ms; batch round trip p50 "
              "%.1f ms p99 %.1f ms" % (sent, wall, sent / wall, 100 * cpu / wall, 1e6 * cpu / sent,
                                       len(lat), pct(lat, 50), pct(lat, 99),
                                       1000 * pct(rtt, 50), 1000 * pct(rtt, 99)), flush=True)
        # flat out
        c0, t0, sent, rtt = cpu_s(pid), time.time(), 0, []
        while sent < FLAT_N:
            rtt.append(send(500))
            sent += 500
        wall, cpu = time.time() - t0, cpu_s(pid) - c0
        lat, last_id = drain(node, last_id)
        print("flat out: %d readings in %.1f s = %.0f readings/s (%.1fx the %.0f/s of %d "
              "patients), %.0f us node CPU per reading; %d warnings, arrival->outbox p50 %d ms "
              "p99 %d ms; 500-reading batch round trip p50 %.0f ms p99 %.0f ms"
              % (sent, wall, sent / wall, sent / wall / rate, rate, PATIENTS, 1e6 * cpu / sent, len(lat),
                 pct(lat, 50), pct(lat, 99), 1000 * pct(rtt, 50), 1000 * pct(rtt, 99)),
              flush=True)
    finally:
        node.cleanup()


if __name__ == "__main__":
    main()
