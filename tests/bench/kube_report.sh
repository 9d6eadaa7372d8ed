#!/usr/bin/env bash
# Figure 2a: on the generated large cluster, `idwatch report -o json` end to end (wall, CPU,
# peak RSS from /usr/bin/time, requests and bytes from /_sim/stats) against kubectl fetching the
# same object kinds. One sim; RUNS alternating rounds of both; then bench_kube_sync (the kube
# engine alone: time to "every source listed") if it is built.
# --no-azure: the sandbox has no Azure credentials and no route to IMDS, and the Azure side is not
# what this figure is about (OIDC discovery is still tried, and fails fast on DNS).
# PARTS="report sync" (default) or either one.
set -u
. "$(dirname "$0")/lib.sh"
bench_need idwatch idwatch-sim
command -v kubectl >/dev/null || { echo "kubectl not found" >&2; exit 2; }
trap sim_stop EXIT
PARTS=${PARTS:-report sync} # which parts to run
KINDS=deployments,statefulsets,daemonsets,cronjobs,pods,serviceaccounts

echo "# kube_report $(date -u +%FT%TZ) GEN=$GEN"
sim_start demo "$GEN"
echo "sim_load_s $SIM_LOAD_S"
bench_load
out=$(mktemp /tmp/idw-bench-report.XXXXXX)
for r in $(seq "$RUNS"); do
    case " $PARTS " in *" report "*) ;; *) break ;; esac
    s0=$(sim_stats)
    t=$(bench_time sh -c "'$BUILD/idwatch' report -o json --no-azure > '$out' 2>'$out.err'")
    s1=$(sim_stats)
    set -- $t
    echo "run $r idwatch_report: wall_s $1 user_s $2 sys_s $3 maxrss_kb $4 exit $5" \
         "bytes $(stats_delta "$s0" "$s1" .bytes_sent) requests $(stats_delta "$s0" "$s1" "$STATS_KUBE")" \
         "[$(stats_classes "$s0" "$s1")] workloads $(jq '.workloads | length' "$out")"
    bench_load
    s0=$(sim_stats)
    t=$(bench_time sh -c "kubectl get $KINDS -A -o json > /dev/null")
    s1=$(sim_stats)
    set -- $t
    echo "run $r kubectl: wall_s $1 user_s $2 sys_s $3 maxrss_kb $4 exit $5" \
         "bytes $(stats_delta "$s0" "$s1" .bytes_sent) requests $(stats_delta "$s0" "$s1" "$STATS_KUBE")" \
         "[$(stats_classes "$s0" "$s1")]"
    bench_load
done
rm -f "$out" "$out.err"
if [ -x "$(bench_path bench_kube_sync)" ] && [[ " $PARTS " == *" sync "* ]]; then
    for r in $(seq "$RUNS"); do
        s0=$(sim_stats)
        t=$(bench_time sh -c "'$(bench_path bench_kube_sync)' --kubeconfig '$KUBECONFIG' > '$SIM_DIR/bks' 2>&1")
        s1=$(sim_stats)
        set -- $t
        echo "run $r bench_kube_sync: wall_s $1 user_s $2 sys_s $3 maxrss_kb $4 exit $5" \
             "$(grep -E '^(synced_ms|requests) ' "$SIM_DIR/bks" | tr '\n' ' ')" \
             "bytes $(stats_delta "$s0" "$s1" .bytes_sent)"
    done
    bench_load
fi
