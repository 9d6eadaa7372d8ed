#!/usr/bin/env bash
# Figure 1b: idwatch-sim on the generated large cluster: its load time (exec to READY) and RSS,
# and what serving `kubectl get pods -A -o json > /dev/null` costs (wall/CPU of kubectl, bytes
# from /_sim/stats bytes_sent, requests). RUNS sims are started, one kubectl run on each.
set -u
. "$(dirname "$0")/lib.sh"
bench_need idwatch-sim
command -v kubectl >/dev/null || { echo "kubectl not found" >&2; exit 2; }
trap sim_stop EXIT

echo "# sim_serve $(date -u +%FT%TZ) GEN=$GEN"
bench_load
for r in $(seq "$RUNS"); do
    sim_start demo "$GEN"
    rss=$(proc_kb "$SIM_PID" VmRSS)
    ticks0=$(proc_ticks "$SIM_PID")
    s0=$(sim_stats)
    t=$(bench_time sh -c 'kubectl get pods -A -o json > /dev/null')
    s1=$(sim_stats)
    ticks1=$(proc_ticks "$SIM_PID")
    hwm=$(proc_kb "$SIM_PID" VmHWM)
    set -- $t
    echo "run $r: sim_load_s $SIM_LOAD_S sim_rss_kb $rss sim_peak_rss_kb $hwm" \
         "kubectl_wall_s $1 kubectl_user_s $2 kubectl_sys_s $3 kubectl_maxrss_kb $4 exit $5" \
         "bytes $(stats_delta "$s0" "$s1" .bytes_sent) requests $(stats_delta "$s0" "$s1" "$STATS_KUBE")" \
         "sim_cpu_s $(echo "scale=2; ($ticks1 - $ticks0) / $(getconf CLK_TCK)" | bc)"
    bench_load
    sim_stop
done
