#!/usr/bin/python3
"""Compare `leben data inspect --json FILE` with pydicom, element by element.

Usage: dicom_compare.py LEBEN_JSON_FILE DICOM_FILE
Prints one line per difference and exits 1 if there is any, 0 if every element agrees:
same tags in the same order (file meta and data set, sequences recursively), same VR, same
value (text split on backslash, numbers, tags) or same BLAKE2b-256 of the raw bytes for binary
VRs. pydicom (Debian python3-pydicom) is the independent reader.
"""
import hashlib
import json
import math
import sys
import warnings

import pydicom
from pydicom.dataelem import RawDataElement

warnings.simplefilter("ignore")

TEXT = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
        "UI", "UR", "UT"}
NUM = {"US", "SS", "UL", "SL", "FL", "FD", "SV", "UV"}


def canon_py(ds, path, out):
    for tag in list(ds.keys()):
        raw = ds.get_item(tag)
        rawbytes = raw.value if isinstance(raw, RawDataElement) else None
        elem = ds[tag]
        vr = str(getattr(elem.VR, "value", elem.VR))
        key = "%s%08X" % (path, int(tag))
        if vr == "SQ":
            out.append((key, "SQ", len(elem.value)))
            for i, item in enumerate(elem.value):
                canon_py(item, "%s/%d/" % (key, i), out)
            continue
        out.append((key, vr, elem.value, rawbytes))


def canon_lb(elems, path, out):
    for e in elems:
        key = "%s%s" % (path, e["tag"])
        if e["vr"] == "SQ":
            out.append((key, "SQ", len(e["items"])))
            for i, item in enumerate(e["items"]):
                canon_lb(item, "%s/%d/" % (key, i), out)
            continue
        out.append((key, e["vr"], e))


def as_list(v):
    if v is None:
        return []
    if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue":
        return list(v)
    return [v]


def same_value(vr, pv, rawbytes, e):
    if "blake2b" in e:
        b = rawbytes if rawbytes is not None else pv
        if b is None:
            b = b""
        if not isinstance(b, (bytes, bytearray)):
            return False, "pydicom value is not bytes: %r" % (pv,)
        h = hashlib.blake2b(bytes(b), digest_size=32).hexdigest()
        return h == e["blake2b"], "blake2b %s vs %s" % (e["blake2b"][:16], h[:16])
    mine = e["value"]
    if vr in TEXT or (vr not in NUM and vr != "AT"):
        theirs = [str(x) for x in as_list(pv)]
        if theirs == [""]:
            theirs = []
        m = [x for x in mine]
        if m == [""]:
            m = []
        # PS3.5 6.2: padding spaces are insignificant (only trailing ones for free text)
        if vr in ("LT", "ST", "UT", "UR"):
            theirs = [t.rstrip(" \x00") for t in theirs]
        else:
            theirs = [t.strip(" \x00") for t in theirs]
        # pydicom keeps empty values between backslashes; so do we.
        return m == theirs, "%r vs %r" % (m[:4], theirs[:4])
    theirs = as_list(pv)
    if isinstance(pv, (bytes, bytearray)):
        return False, "pydicom left %s as bytes" % vr
    if len(theirs) != len(mine):
        return False, "%d vs %d values" % (len(mine), len(theirs))
    for a, b in zip(mine, theirs):
        if vr == "AT":
            if int(a, 16) != int(b):
                return False, "%s vs %08X" % (a, int(b))
        elif vr in ("FL", "FD"):
            a = float(a)
            if not (a == b or (math.isnan(a) and math.isnan(b)) or
                    (vr == "FL" and abs(a - b) <= 1e-6 * abs(b))):
                return False, "%r vs %r" % (a, b)
        elif int(a) != int(b):
            return False, "%r vs %r" % (a, b)
    return True, ""


def main():
    lb = json.load(open(sys.argv[1]))
    ds = pydicom.dcmread(sys.argv[2], force=True)
    py, mine = [], []
    if getattr(ds, "file_meta", None) is not None:
        canon_py(ds.file_meta, "", py)
    canon_py(ds, "", py)
    canon_lb(lb["file_meta"], "", mine)
    canon_lb(lb["dataset"], "", mine)
    bad = 0
    if [x[0] for x in py] != [x[0] for x in mine]:
        a, b = [x[0] for x in py], [x[0] for x in mine]
        print("tag lists differ: pydicom %d elements, leben %d; first difference at %s / %s" % (
            len(a), len(b), next((x for x, y in zip(a, b) if x != y), "end"),
            next((y for x, y in zip(a, b) if x != y), "end")))
        return 1
    for p, m in zip(py, mine):
        key, pvr = p[0], p[1]
        if pvr == "SQ" or m[1] == "SQ":
            if pvr != m[1] or p[2] != m[2]:
                print("%s: SQ %s/%s items %s/%s" % (key, pvr, m[1], p[2], m[2]))
                bad += 1
            continue
        vr = m[1]
        if pvr != vr and not (" or " in pvr and vr in pvr.split(" or ")):
            print("%s: VR %s vs pydicom %s" % (key, vr, pvr))
            bad += 1
            continue
        ok, why = same_value(vr, p[2], p[3], m[2])
        if not ok:
            print("%s %s: value differs: %s" % (key, vr, why))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
