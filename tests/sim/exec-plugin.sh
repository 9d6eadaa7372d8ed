#!/bin/sh
# idwatch-sim's exec credential plugin (client.authentication.k8s.io/v1), named by the sim-exec
# user of the kubeconfig the simulator writes. The token comes from the kubeconfig's exec env
# (IDWSIM_EXEC_TOKEN); the plugin prints it as an ExecCredential and nothing else on stdout.
set -eu
if [ -z "${IDWSIM_EXEC_TOKEN:-}" ]; then
    echo "exec-plugin.sh: IDWSIM_EXEC_TOKEN is not set" >&2
    exit 1
fi
case "$IDWSIM_EXEC_TOKEN" in
    *[!0-9A-Za-z._-]*) echo "exec-plugin.sh: malformed token" >&2; exit 1 ;;
esac
if [ -n "${IDWSIM_EXEC_LOG:-}" ]; then
    echo "exec-plugin ran" >>"$IDWSIM_EXEC_LOG"   # lets tests count plugin runs
fi
expires=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT23:59:59Z)
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false},"status":{"token":"%s","expirationTimestamp":"%s"}}\n' \
    "$IDWSIM_EXEC_TOKEN" "$expires"
