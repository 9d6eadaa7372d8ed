#!/usr/bin/env bash
# Figure 3: bench_check (full re-check of N workloads / 5N pods; one dirty workload) and
# bench_nmilog (NMI log parser throughput over the real fixture replicated to MIB MiB), RUNS
# times each, with the process's wall/CPU/peak RSS from /usr/bin/time. Both benches print CPU
# figures themselves (bench_check: best of 5 in CPU ms; bench_nmilog: best of 3 in wall MB/s).
set -u
. "$(dirname "$0")/lib.sh"
bench_need bench_check bench_nmilog
WORKLOADS=${WORKLOADS:-10000}
MIB=${MIB:-64}
FIXTURE=${FIXTURE:-$BENCH_SRC/../shared/fixtures/nmi-logs-real.txt}
OUT=$(mktemp /tmp/idw-bench-checks.XXXXXX)
trap 'rm -f "$OUT"' EXIT

echo "# checks $(date -u +%FT%TZ) workloads $WORKLOADS nmilog ${MIB}MiB of $FIXTURE"
bench_load
for r in $(seq "$RUNS"); do
    t=$(bench_time sh -c "'$(bench_path bench_check)' $WORKLOADS > '$OUT' 2>&1")
    echo "run $r bench_check [wall user sys maxrss_kb exit: $t]"
    sed 's/^/  /' "$OUT"
    t=$(bench_time sh -c "'$(bench_path bench_nmilog)' $MIB '$FIXTURE' > '$OUT' 2>&1")
    echo "run $r bench_nmilog [wall user sys maxrss_kb exit: $t]"
    sed 's/^/  /' "$OUT"
    bench_load
done
