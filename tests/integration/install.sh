#!/usr/bin/env bash
# The install, as a new user gets it: cmake --install into a temporary prefix, then the prefix is
# MOVED, and from there (a HOME of its own, outside the source tree, the install's bin/ on PATH):
# - --print-config with a config file: sources as file:line, the theme file inside the moved
#   prefix, a [context] section applied;
# - report --demo: idwatch-sim found in libexec/idwatch/, the installed scenarios used (the
#   source tree's are made unreachable);
# - kubectl idwatch --version through PATH (kubectl's plugin lookup);
# - man -l renders idwatch(1) with every section, every key of the action table and every flag;
# - the bash completion through bash (flags, fixed values, contexts and namespaces from the
#   simulator through idwatch __complete); zsh and fish through their shells where installed
#   (otherwise that sub-check says it was skipped).
# Exits 77 (ctest: skipped; CI fails on it) when a tool it needs is missing (scripts/bootstrap
# installs them all: cmake, man-db, kubectl, zsh, fish).
set -euo pipefail
SELF_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$SELF_DIR/lib/common.sh"

: "${IDW_BINARY_DIR:?IDW_BINARY_DIR must point at the build tree}"
t_need cmake python3 man kubectl bash
[ -f "$IDW_BINARY_DIR/cmake_install.cmake" ] || { echo "SKIPPED: no cmake_install.cmake"; exit "$T_SKIP"; }

section() { t_log "-- [${SECONDS}s] $*"; }

# ---- install, then move ----------------------------------------------------------------------
section "install and move"
if ! cmake --install "$IDW_BINARY_DIR" --prefix "$T_TMP/first" >"$T_TMP/install.log" 2>&1; then
    cat "$T_TMP/install.log" >&2
    t_fail "cmake --install failed"
    t_done
fi
mv "$T_TMP/first" "$T_TMP/moved"
P="$T_TMP/moved"
for f in bin/idwatch bin/kubectl-idwatch libexec/idwatch/idwatch-sim libexec/idwatch/exec-plugin.sh \
    share/idwatch/themes/default.theme share/idwatch/themes/mono.theme \
    share/idwatch/scenarios/demo.json share/man/man1/idwatch.1 \
    share/bash-completion/completions/idwatch share/zsh/site-functions/_idwatch \
    share/fish/vendor_completions.d/idwatch.fish; do
    if [ -e "$P/$f" ]; then t_ok "installed $f"; else t_fail "not installed: $f"; fi
done
[ -L "$P/bin/kubectl-idwatch" ] && [ "$(readlink "$P/bin/kubectl-idwatch")" = idwatch ] &&
    t_ok "kubectl-idwatch is a relative symlink to idwatch" || t_fail "kubectl-idwatch is not a link to idwatch"
t_log "installed size: $(du -sh "$P" | cut -f1) (sanitizer build)"

t_sim_start demo # for the contexts and namespaces of the completions (before the env below)

# A user of the moved install: own HOME, nothing of the build or source tree on the way.
HOME_DIR="$T_TMP/home"
mkdir -p "$HOME_DIR/.config/idwatch" "$T_TMP/cwd"
cd "$T_TMP/cwd"
export HOME="$HOME_DIR" PATH="$P/bin:$PATH"
unset XDG_CONFIG_HOME XDG_STATE_HOME XDG_DATA_HOME KUBECONFIG IDWATCH_THEME IDWATCH_CONFIG \
    IDWATCH_READ_ONLY NO_COLOR
export XDG_DATA_DIRS=/nonexistent    # not the machine's /usr/share/idwatch
export IDWSIM_SCENARIOS_DIR=/nonexistent # not the source tree's scenarios: the installed ones
export LC_ALL=C

# ---- --print-config ---------------------------------------------------------------------------
section "--print-config"
cat >"$HOME_DIR/.config/idwatch/config" <<'EOF'
# the install test's config
theme = light
interval = 45s
[context sim-*]
read-only = true
no-azure = yes
EOF
CFG="$HOME_DIR/.config/idwatch/config"
out=$(idwatch --kubeconfig "$T_KUBECONFIG" --print-config 2>"$T_TMP/pc.err") || t_fail "--print-config failed: $(cat "$T_TMP/pc.err")"
printf '%s\n' "$out" >&2
expect_line() {
    if grep -qxF -- "$1" <<<"$out"; then t_ok "print-config: $1"; else t_fail "print-config lacks: $1"; fi
}
expect_line "theme = light  # $CFG:2"
expect_line "theme-file = $P/share/idwatch/themes/light.theme  # found for theme"
expect_line "interval = 45s  # $CFG:3"
expect_line "context = sim-token  # default"
expect_line "read-only = true  # $CFG:5"
expect_line "no-azure = true  # $CFG:6"
expect_line "kubeconfig = $T_KUBECONFIG  # flag"
expect_line "config = $CFG  # default"
expect_line "action-log = $HOME_DIR/.local/state/idwatch/actions.log  # default"
[ -s "$T_TMP/pc.err" ] && t_fail "print-config warned: $(cat "$T_TMP/pc.err")"
out=$(idwatch --kubeconfig "$T_KUBECONFIG" --print-config --no-read-only --theme mono 2>/dev/null)
expect_line "read-only = false  # flag"
expect_line "theme-file = $P/share/idwatch/themes/mono.theme  # found for theme"
printf 'theme = light\nbogus = 1\n' >"$CFG"
idwatch --print-config >/dev/null 2>"$T_TMP/pc.err" || true
grep -qF "idwatch: $CFG:2: unknown key 'bogus'" "$T_TMP/pc.err" &&
    t_ok "a bad config line warns with file:line" || t_fail "no file:line warning: $(cat "$T_TMP/pc.err")"
rm -f "$CFG"

# ---- report --demo ----------------------------------------------------------------------------
section "report --demo from the moved prefix"
rc=0
idwatch report --demo -o json >"$T_TMP/demo.json" 2>"$T_TMP/demo.err" || rc=$?
if [ "$rc" -le 1 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "idwatch.report/v1", d["schema"]
assert len(d["workloads"]) > 10, len(d["workloads"])
' "$T_TMP/demo.json"; then
    t_ok "report --demo (exit $rc) with $(grep -c '"kind"' "$T_TMP/demo.json") workload kinds listed"
else
    t_fail "report --demo: exit $rc: $(head -c 600 "$T_TMP/demo.err")"
fi

# ---- kubectl plugin ---------------------------------------------------------------------------
section "kubectl idwatch"
want="idwatch $("$P/bin/idwatch" --version | awk '{print $2}')"
if command -v kubectl >/dev/null; then
    got=$(kubectl idwatch --version 2>&1) || true
    [ "$got" = "$want" ] && t_ok "kubectl idwatch --version: $got" || t_fail "kubectl idwatch --version said: $got"
    got=$(kubectl idwatch version 2>&1) || true
    [ "$got" = "$want" ] && t_ok "kubectl idwatch version" || t_fail "kubectl idwatch version said: $got"
    kubectl idwatch --help 2>&1 | grep -q '^usage: kubectl idwatch ' &&
        t_ok "kubectl idwatch --help names itself so" || t_fail "kubectl idwatch --help"
    kubectl plugin list 2>/dev/null | grep -qx "$P/bin/kubectl-idwatch" &&
        t_ok "kubectl plugin list finds it" || t_fail "kubectl plugin list: $(kubectl plugin list 2>&1 | head -5)"
else
    t_fail "kubectl not installed (scripts/bootstrap installs it)"
fi

# ---- man page ---------------------------------------------------------------------------------
section "man -l"
if command -v man >/dev/null; then
    MANWIDTH=100 man -l "$P/share/man/man1/idwatch.1" 2>"$T_TMP/man.err" | sed 's/.\x08//g' >"$T_TMP/man.txt" || true
    [ -s "$T_TMP/man.err" ] && t_fail "man -l warned: $(head -5 "$T_TMP/man.err")"
    for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS KEYS THEMES FILES ENVIRONMENT "EXIT STATUS" EXAMPLES "SEE ALSO"; do
        grep -qx "$s" "$T_TMP/man.txt" && t_ok "man: section $s" || t_fail "man: no section $s"
    done
    # every key of the action table, in KEYS; every flag, in OPTIONS
    keys=$(sed -n '/^KEYS$/,/^THEMES$/p' "$T_TMP/man.txt")
    missing=0 n=0
    while read -r k; do
        n=$((n + 1))
        grep -qE "(^|[ ,])$(printf '%s' "$k" | sed 's/[][\.*^$?+(){}|/]/\\&/g')(,|$| )" <<<"$keys" || {
            missing=$((missing + 1)); t_log "key not in the man page: $k"; }
    done < <("$IDW_BINARY_DIR/idwatch-gen" keys)
    [ "$n" -gt 20 ] && [ "$missing" -eq 0 ] && t_ok "man: all $n keys of the action table" || t_fail "man: $missing of $n keys missing"
    opts=$(sed -n '/^OPTIONS$/,/^CONFIG FILE$/p' "$T_TMP/man.txt")
    missing=0 n=0
    while read -r f; do
        n=$((n + 1))
        grep -qE -- "(^| )$f( |,|$)" <<<"$opts" || { missing=$((missing + 1)); t_log "flag not in the man page: $f"; }
    done < <("$IDW_BINARY_DIR/idwatch-gen" flags)
    [ "$n" -gt 20 ] && [ "$missing" -eq 0 ] && t_ok "man: all $n flags" || t_fail "man: $missing of $n flags missing"
    grep -q 'actions.log' "$T_TMP/man.txt" && t_ok "man: FILES names the action log" || t_fail "man: no action log"
else
    t_fail "man not installed (scripts/bootstrap installs man-db)"
fi

# ---- completions ------------------------------------------------------------------------------
section "completions"
start=$(t_ms)
ns=$(idwatch __complete namespaces --kubeconfig "$T_KUBECONFIG")
t_log "idwatch __complete namespaces: $(($(t_ms) - start)) ms for $(wc -l <<<"$ns") namespaces"
grep -qx kube-system <<<"$ns" && t_ok "__complete namespaces" || t_fail "__complete namespaces: $ns"
idwatch __complete namespaces --kubeconfig "$T_KUBECONFIG" --context nope >/dev/null 2>&1 &&
    t_fail "__complete for an unknown context succeeded" || t_ok "__complete fails on an unknown context"

# bash: the function the completion file defines, called as bash calls it on Tab
cat >"$T_TMP/bash-comp.sh" <<EOF
source '$P/share/bash-completion/completions/idwatch'
complete -p idwatch kubectl-idwatch >/dev/null || exit 3
comp() { COMP_WORDS=("\$@"); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _idwatch; printf '%s\n' "\${COMPREPLY[*]}"; }
comp idwatch --th
comp idwatch --theme hi
comp idwatch -o j
comp idwatch rep
comp idwatch --cloud AzureC
comp idwatch --kubeconfig '$T_KUBECONFIG' --context sim-c
comp idwatch --kubeconfig '$T_KUBECONFIG' --context sim-token -n kube-sy
comp kubectl-idwatch --no-rea
EOF
mapfile -t got < <(bash --norc --noprofile "$T_TMP/bash-comp.sh" 2>"$T_TMP/bash.err")
want_bash=("--theme" "high-contrast" "json" "report" "AzureChinaCloud" "sim-cert" "kube-system" "--no-read-only")
for i in "${!want_bash[@]}"; do
    [ "${got[$i]:-}" = "${want_bash[$i]}" ] && t_ok "bash completes ${want_bash[$i]}" ||
        t_fail "bash completion $i: got '${got[$i]:-}', want '${want_bash[$i]}' ($(cat "$T_TMP/bash.err"))"
done

# zsh: an interactive zsh on a pseudo-terminal (zpty), Tab pressed, the edited line read back
if command -v zsh >/dev/null; then
    cat >"$T_TMP/zsh-comp.zsh" <<'EOF'
zmodload zsh/zpty
typeset -g fdir=$1 out=$2
shift 2
zpty -b z zsh -f -i
zpty -w z "fpath=($fdir \$fpath); autoload -Uz compinit; compinit -u -D; PS1='% '; RPS1=''"
zpty -w z "dump() { print -r -- \"[\$BUFFER]\" >> $out; BUFFER=''; }; zle -N dump; bindkey '^X' dump"
zpty -w z "zstyle ':completion:*' menu no; setopt no_beep no_list_ambiguous"
integer n=0 i
typeset -a got
for line in "$@"; do
    # Tab, then ^X: zle runs the dump once the completion is done; wait for its line
    zpty -w -n z "$line"$'\t\x18'
    (( n++ ))
    for i in {1..200}; do
        got=(${(f)"$(<$out)"})
        (( $#got >= n )) && break
        sleep 0.1
        while zpty -rt z chunk; do :; done # keep the terminal's output flowing
    done
done
zpty -w z 'exit'
sleep 0.3
zpty -d z
EOF
    : >"$T_TMP/zsh.out"
    timeout 60 zsh -f "$T_TMP/zsh-comp.zsh" "$P/share/zsh/site-functions" "$T_TMP/zsh.out" \
        "idwatch --th" "idwatch --theme high-c" "idwatch -o j" "idwatch rep" \
        "idwatch --kubeconfig $T_KUBECONFIG --context sim-c" \
        "idwatch --kubeconfig $T_KUBECONFIG -n kube-sy" >/dev/null 2>&1 || true
    mapfile -t got <"$T_TMP/zsh.out"
    want_zsh=("[idwatch --theme ]" "[idwatch --theme high-contrast ]" "[idwatch -o json ]" "[idwatch report ]"
        "[idwatch --kubeconfig $T_KUBECONFIG --context sim-cert ]" "[idwatch --kubeconfig $T_KUBECONFIG -n kube-system ]")
    for i in "${!want_zsh[@]}"; do
        [ "${got[$i]:-}" = "${want_zsh[$i]}" ] && t_ok "zsh completes ${want_zsh[$i]}" ||
            t_fail "zsh completion $i: got '${got[$i]:-}', want '${want_zsh[$i]}'"
    done
else
    t_log "zsh completion: skipped (zsh is not installed)"
fi

# fish: its own completion query, complete -C
if command -v fish >/dev/null; then
    fish_comp() {
        fish --no-config -c "source '$P/share/fish/vendor_completions.d/idwatch.fish'; complete -C '$1'" 2>&1 |
            cut -f1 | grep -x -- "$2" >/dev/null
    }
    fish_comp "idwatch --th" "--theme" && t_ok "fish completes --theme" || t_fail "fish: --th"
    fish_comp "idwatch --theme " "high-contrast" && t_ok "fish completes theme names" || t_fail "fish: theme names"
    fish_comp "idwatch -o " "json" && t_ok "fish completes -o formats" || t_fail "fish: -o"
    fish_comp "idwatch rep" "report" && t_ok "fish completes report" || t_fail "fish: report"
    fish_comp "idwatch --kubeconfig $T_KUBECONFIG --context " "sim-exec" && t_ok "fish completes contexts" || t_fail "fish: contexts"
    fish_comp "idwatch --kubeconfig $T_KUBECONFIG -n " "kube-system" && t_ok "fish completes namespaces" || t_fail "fish: namespaces"
else
    t_log "fish completion: skipped (fish is not installed)"
fi

t_done
