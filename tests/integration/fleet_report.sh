#!/usr/bin/env bash
# `idwatch report` over a fleet: three simulated clusters and one that cannot be reached, in one
# kubeconfig. The broken one never stops the others: reports for the working clusters (the same
# verdicts as `idwatch report --context X` alone), the error for the broken one, exit 2 (the
# worst); --context lists and globs; every output format; --compact; --parallel 1.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/fleet.sh"
t_need python3
VERDICTS="python3 $IDW_SOURCE_DIR/tests/integration/lib/verdicts.py"

t_sims_start 2 demo
t_sims_start 1 empty
KC="$T_TMP/fleet-kubeconfig"
t_fleet_kubeconfig "$KC" prod-weu=0 prod-broken=closed prod-neu=2 stage-weu=1
idw() { "$IDWATCH" report --kubeconfig "$KC" --no-azure "$@"; }

# 1. Every context, JSON: four entries in kubeconfig order, the broken one with its error.
set +e
idw --all-contexts -o json >"$T_TMP/all.json" 2>"$T_TMP/all.err"
rc=$?
set -e
[ "$rc" -eq 2 ] && t_ok "a broken cluster makes the fleet exit 2" ||
    { t_fail "fleet exit $rc (want 2)"; cat "$T_TMP/all.err" >&2; }
if [ "$(wc -l <"$T_TMP/all.err")" -eq 1 ] &&
    grep -q '^idwatch: context prod-broken: cannot reach the cluster: ' "$T_TMP/all.err"; then
    t_ok "one stderr line names the broken context and why"
else
    t_fail "stderr:"; cat "$T_TMP/all.err" >&2
fi
if python3 - "$T_TMP/all.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "idwatch.fleet/v1", d["schema"]
assert set(d) == {"schema", "generated_at", "reports", "summary"}, sorted(d)
ctx = [r["context"] for r in d["reports"]]
assert ctx == ["prod-weu", "prod-broken", "prod-neu", "stage-weu"], ctx
for r in d["reports"]:
    assert set(r) == {"context", "error", "report"}, sorted(r)
    if r["context"] == "prod-broken":
        assert r["report"] is None and r["error"].startswith("cannot reach the cluster: "), r
    else:
        assert r["error"] is None, r
        assert r["report"]["schema"] == "idwatch.report/v1"
        assert r["report"]["cluster"]["context"] == r["context"]
ok = [r["report"] for r in d["reports"] if r["report"]]
s = d["summary"]
assert set(s) == {"clusters", "failed", "workloads", "percent_migrated", "pod_identity_removable"}
assert (s["clusters"], s["failed"]) == (4, 1), s
assert s["workloads"] == sum(len(r["workloads"]) for r in ok), s
m = [r["cluster"]["migration"] for r in ok]
wi, den = sum(x["workload_identity"] for x in m), sum(x["workload_identity"] + x["pod_identity"] + x["both"] for x in m)
assert abs(s["percent_migrated"] - (round(wi * 100.0 / den, 1) if den else 0)) < 1e-9, s
assert s["pod_identity_removable"] == sum(r["cluster"]["pod_identity_removal"]["safe"] for r in ok)
names = {r["cluster"]["context"]: len(r["workloads"]) for r in ok}
assert names["prod-neu"] < names["prod-weu"] == names["stage-weu"], names  # empty vs demo
PY
then t_ok "idwatch.fleet/v1: reports in kubeconfig order, error for the broken one, summary sums"
else t_fail "fleet JSON"; fi

# 2. Each cluster's part is the report `idwatch report --context X` gives alone.
for c in prod-weu prod-neu stage-weu; do
    set +e
    idw --context "$c" -o json >"$T_TMP/one-$c.json" 2>/dev/null
    set -e
    python3 - "$T_TMP/all.json" "$c" >"$T_TMP/part-$c.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps([r["report"] for r in d["reports"] if r["context"] == sys.argv[2]][0]))
PY
    $VERDICTS extract "$T_TMP/one-$c.json" >"$T_TMP/v-one-$c.json"
    $VERDICTS extract "$T_TMP/part-$c.json" >"$T_TMP/v-part-$c.json"
    if diff -u "$T_TMP/v-one-$c.json" "$T_TMP/v-part-$c.json" >&2; then
        t_ok "$c: the fleet's verdicts equal the single report's"
    else t_fail "$c: fleet and single report differ (diff above)"; fi
done

# 3. --context: globs keep kubeconfig order, lists their own; the exit code is the worst.
set +e
idw --context 'prod-*' -o json >"$T_TMP/prod.json" 2>/dev/null; r1=$?
idw --context 'stage-weu,prod-w*' -o json >"$T_TMP/list.json" 2>/dev/null; r2=$?
idw --context 'stage-weu' -o json >"$T_TMP/stage.json" 2>/dev/null; r3=$?
idw --context 'nope,prod-weu' >"$T_TMP/o4" 2>"$T_TMP/e4"; r4=$?
idw --context 'dev-*' >"$T_TMP/o5" 2>"$T_TMP/e5"; r5=$?
set -e
ctxs() { python3 -c 'import json,sys; print(" ".join(r["context"] for r in json.load(open(sys.argv[1]))["reports"]))' "$1"; }
[ "$r1" -eq 2 ] && [ "$(ctxs "$T_TMP/prod.json")" = "prod-weu prod-broken prod-neu" ] &&
    t_ok "--context 'prod-*': three clusters in kubeconfig order, exit 2" ||
    t_fail "--context 'prod-*': rc $r1, $(ctxs "$T_TMP/prod.json")"
want2=$(python3 -c 'import json,sys; print(max(1 if any(f["severity"]=="error" for f in r["report"]["cluster"]["findings"]) or any(f["severity"]=="error" for w in r["report"]["workloads"] for f in w["findings"]) else 0 for r in json.load(open(sys.argv[1]))["reports"]))' "$T_TMP/list.json")
[ "$r2" -eq "$want2" ] && [ "$want2" -eq 1 ] && [ "$(ctxs "$T_TMP/list.json")" = "stage-weu prod-weu" ] &&
    t_ok "--context list with a glob: given order, exit 1 (error findings, none failed)" ||
    t_fail "--context list: rc $r2 (want $want2), $(ctxs "$T_TMP/list.json")"
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["schema"] == "idwatch.report/v1"' "$T_TMP/stage.json" &&
    t_ok "--context NAME alone is a plain report (rc $r3)" || t_fail "--context NAME is not a plain report"
[ "$r4" -eq 2 ] && [ ! -s "$T_TMP/o4" ] && [ "$(wc -l <"$T_TMP/e4")" -eq 1 ] && grep -q "no context named 'nope'" "$T_TMP/e4" &&
    t_ok "an unknown name in a list: exit 2, one line" || { t_fail "unknown name: rc $r4"; cat "$T_TMP/e4" >&2; }
[ "$r5" -eq 2 ] && [ ! -s "$T_TMP/o5" ] && grep -q "'dev-\*' matches no context" "$T_TMP/e5" &&
    t_ok "a glob that matches nothing: exit 2" || { t_fail "empty glob: rc $r5"; cat "$T_TMP/e5" >&2; }

# 4. Text, Markdown, CSV: one section per cluster and the summary; CSV a context on every row.
set +e
idw --all-contexts -o text >"$T_TMP/all.txt" 2>/dev/null; rt=$?
idw --all-contexts -o markdown >"$T_TMP/all.md" 2>/dev/null; rm_=$?
idw --all-contexts -o csv >"$T_TMP/all.csv" 2>/dev/null; rcsv=$?
set -e
if [ "$rt" -eq 2 ] && [ "$(grep -c '^=== .*: \(done\|failed\) ===$' "$T_TMP/all.txt")" -eq 4 ] &&
    grep -q '^=== prod-broken: failed ===$' "$T_TMP/all.txt" &&
    grep -q '^error: cannot reach the cluster' "$T_TMP/all.txt" &&
    grep -q '^4 clusters, 1 failed; ' "$T_TMP/all.txt"; then t_ok "-o text: four sections and the summary"
else t_fail "-o text (rc $rt)"; tail -12 "$T_TMP/all.txt" >&2; fi
if [ "$rm_" -eq 2 ] && [ "$(grep -c '^## idwatch report$' "$T_TMP/all.md")" -eq 4 ] &&
    [ "$(grep -c '^# ' "$T_TMP/all.md")" -eq 1 ] && grep -q '^## Summary$' "$T_TMP/all.md" &&
    grep -q '^| prod-broken | failed |' "$T_TMP/all.md"; then t_ok "-o markdown: four sections, one title, the summary table"
else t_fail "-o markdown (rc $rm_)"; grep -n '^#' "$T_TMP/all.md" >&2; fi
if [ "$rcsv" -eq 2 ] && python3 - "$T_TMP/all.csv" "$T_TMP/all.json" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
d = json.load(open(sys.argv[2]))
head = rows[0]
assert head[0] == "context" and head[-1] == "cluster_error" and "kind" in head, head
assert all(len(r) == len(head) for r in rows), {len(r) for r in rows}
assert sum(1 for r in rows if r == head) == 1
body = rows[1:]
want = {x["context"]: len(x["report"]["workloads"]) for x in d["reports"] if x["report"]}
for c, n in want.items():
    got = sum(1 for r in body if r[0] == c)
    assert got == n, (c, got, n)
broken = [r for r in body if r[0] == "prod-broken"]
assert len(broken) == 1 and broken[0][-1].startswith("cannot reach the cluster"), broken
assert all(r[0] for r in body)
PY
then t_ok "-o csv: one header, a context on every row, one row per workload, the broken cluster's error"
else t_fail "-o csv (rc $rcsv)"; fi

# 5. --compact: the fleet and a single report on one line; --parallel 1 gives the same reports.
set +e
idw --all-contexts -o json --compact --parallel 1 >"$T_TMP/compact.json" 2>/dev/null; rc1=$?
idw --context prod-weu -o json --compact >"$T_TMP/one-compact.json" 2>/dev/null
set -e
if [ "$rc1" -eq 2 ] && [ "$(wc -l <"$T_TMP/compact.json")" -eq 1 ] && [ "$(wc -l <"$T_TMP/one-compact.json")" -eq 1 ] &&
    python3 - "$T_TMP/compact.json" "$T_TMP/all.json" "$T_TMP/one-compact.json" <<'PY'
import json, sys
a, b, one = (json.load(open(p)) for p in sys.argv[1:])
assert one["schema"] == "idwatch.report/v1"
assert [r["context"] for r in a["reports"]] == [r["context"] for r in b["reports"]]
assert [r["error"] is None for r in a["reports"]] == [r["error"] is None for r in b["reports"]]
assert a["summary"]["clusters"] == 4 and a["summary"]["failed"] == 1
PY
then t_ok "--compact: one line each; --parallel 1 audits the same clusters"
else t_fail "--compact / --parallel 1 (rc $rc1)"; fi

# 6. Each cluster gets its own settings: the config file's [context PATTERN] sections.
printf '[context stage-*]\nnamespace = no-such-namespace\n' >"$T_TMP/idwatch.conf"
set +e
IDWATCH_CONFIG="$T_TMP/idwatch.conf" idw --context 'prod-weu,stage-weu' -o json \
    >"$T_TMP/sect.json" 2>"$T_TMP/sect.err"
r9=$?
set -e
if [ "$r9" -eq 2 ] && python3 - "$T_TMP/sect.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = {x["context"]: x for x in d["reports"]}
assert r["stage-weu"]["error"] == 'namespace "no-such-namespace" not found', r["stage-weu"]["error"]
assert r["prod-weu"]["error"] is None and r["prod-weu"]["report"]["cluster"]["scope"] is None
PY
then t_ok "[context stage-*] applies to stage-weu alone (its namespace does not exist: exit 2)"
else t_fail "per-context settings (rc $r9)"; cat "$T_TMP/sect.err" >&2; fi

# 7. The fleet dashboard is not built yet: on a terminal, fleet flags say so (exit 2).
set +e
python3 -c 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))' \
    "$IDWATCH" --kubeconfig "$KC" --no-azure --context 'prod-*' >"$T_TMP/tty.out" 2>&1
r8=$?
set -e
[ "$r8" -eq 2 ] && grep -q "fleet dashboard is not built yet" "$T_TMP/tty.out" &&
    t_ok "the dashboard with a context glob: exit 2, says to use report" ||
    { t_fail "dashboard with fleet flags: rc $r8"; cat "$T_TMP/tty.out" >&2; }

t_done
