#!/usr/bin/env python3
"""Compares the verdicts of `idwatch report -o json` with an expected-verdicts file.

usage: verdicts.py extract REPORT.json > EXPECTED.json   (to write a new expected file; review it!)
       verdicts.py compare REPORT.json EXPECTED.json

An expected value may be a list of allowed values (for verdicts that legitimately depend on when
the report runs, e.g. a CronJob between two runs has no pods). Prints one line per difference and
exits 1 when there is any.
"""
import json
import sys


def workload_key(w):
    return "%s %s/%s" % (w["kind"], w["namespace"], w["name"])


def extract(report):
    c = report["cluster"]
    out = {
        "cluster": {
            "oidc": c["oidc"]["status"],
            "workload_identity_webhook": c["workload_identity_webhook"]["status"],
            "pod_identity": c["pod_identity"]["status"],
            "migration": {k: c["migration"][k] for k in
                          ("total", "workload_identity", "pod_identity", "both", "none")},
            "pod_identity_removal_safe": c["pod_identity_removal"]["safe"],
        },
        "workloads": {},
    }
    for w in report["workloads"]:
        out["workloads"][workload_key(w)] = {
            "mechanism": w["mechanism"],
            "federation": w["federation"]["status"],
            "projection": w["projection"]["status"],
            "pod_identity_activity": w["pod_identity_activity"]["status"],
            "findings": sorted({f["code"] for f in w["findings"]}),
        }
    return out


def matches(expected, actual):
    if isinstance(expected, list) and expected and isinstance(expected[0], list):
        return actual in expected  # alternatives of finding lists
    if isinstance(expected, list) and not isinstance(actual, list):
        return actual in expected
    return expected == actual


def compare(actual, expected):
    diffs = []
    for k, v in expected["cluster"].items():
        if not matches(v, actual["cluster"].get(k)):
            diffs.append("cluster.%s: expected %s, got %s" % (k, v, actual["cluster"].get(k)))
    aw, ew = actual["workloads"], expected["workloads"]
    for key in sorted(set(ew) - set(aw)):
        diffs.append("%s: missing from the report" % key)
    for key in sorted(set(aw) - set(ew)):
        diffs.append("%s: not expected" % key)
    for key in sorted(set(aw) & set(ew)):
        for field, want in ew[key].items():
            got = aw[key].get(field)
            if not matches(want, got):
                diffs.append("%s: %s expected %s, got %s" % (key, field, want, got))
    return diffs


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "extract":
        json.dump(extract(json.load(open(sys.argv[2]))), sys.stdout, indent=1, sort_keys=True)
        print()
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "compare":
        report = json.load(open(sys.argv[2]))
        if report.get("schema") != "idwatch.report/v1":
            print("report schema is %r, not idwatch.report/v1" % report.get("schema"))
            return 1
        diffs = compare(extract(report), json.load(open(sys.argv[3])))
        for d in diffs:
            print(d)
        print("%d verdicts differ" % len(diffs))
        return 1 if diffs else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
