#!/usr/bin/env bash
# The .deb: cpack -G DEB from the build tree (into a temporary directory), then the package is
# only inspected, never installed: dpkg-deb -f (name, version, architecture, the Depends that
# dpkg-shlibdeps found), dpkg-deb -c (every file under /usr where it belongs, kubectl-idwatch a
# link to idwatch), and the binaries extracted with dpkg-deb -x run from that tree (the layout
# works wherever it lands).
# Exits 77 (ctest: skipped; CI fails on it) when cpack, dpkg-deb or dpkg-shlibdeps is missing.
set -euo pipefail
SELF_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/common.sh
source "$SELF_DIR/lib/common.sh"

: "${IDW_BINARY_DIR:?IDW_BINARY_DIR must point at the build tree}"
t_need cpack dpkg-deb dpkg-shlibdeps

start=$(t_ms)
if ! cpack -G DEB -B "$T_TMP/pkg" --config "$IDW_BINARY_DIR/CPackConfig.cmake" >"$T_TMP/cpack.log" 2>&1; then
    cat "$T_TMP/cpack.log" >&2
    t_fail "cpack -G DEB failed"
    t_done
fi
deb=$(find "$T_TMP/pkg" -maxdepth 1 -name 'idwatch_*.deb' | head -n 1)
[ -n "$deb" ] || { cat "$T_TMP/cpack.log" >&2; t_fail "no idwatch_*.deb"; t_done; }
t_ok "cpack -G DEB made $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $(($(t_ms) - start)) ms"

field() { dpkg-deb -f "$deb" "$1"; }
version=$("$IDWATCH" --version | awk '{print $2}')
[ "$(field Package)" = idwatch ] && t_ok "Package: idwatch" || t_fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] && t_ok "Version: $version" || t_fail "Version: $(field Version)"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] && t_ok "Architecture: $(field Architecture)" ||
    t_fail "Architecture: $(field Architecture)"
depends=$(field Depends)
t_log "Depends: $depends"
# what the binaries link, by Debian package (libncursesw6 or, on newer releases, libtinfo6)
for lib in libc6 libcurl4 libcjson1 libssl3 'libyaml-0-2' libinih1 libmicrohttpd12 'libncursesw6|libtinfo6'; do
    if grep -qE "(^|, )($lib)( |,|$)" <<<"$depends"; then t_ok "Depends names $lib"; else t_fail "Depends lacks $lib"; fi
done
[ -n "$(field Description)" ] && [ -n "$(field Maintainer)" ] && t_ok "Description and Maintainer set" ||
    t_fail "Description or Maintainer missing"

dpkg-deb -c "$deb" >"$T_TMP/contents"
for f in ./usr/bin/idwatch ./usr/libexec/idwatch/idwatch-sim ./usr/libexec/idwatch/exec-plugin.sh \
    ./usr/share/idwatch/themes/default.theme ./usr/share/idwatch/themes/high-contrast.theme \
    ./usr/share/idwatch/scenarios/demo.json ./usr/share/man/man1/idwatch.1 \
    ./usr/share/bash-completion/completions/idwatch ./usr/share/zsh/site-functions/_idwatch \
    ./usr/share/fish/vendor_completions.d/idwatch.fish; do
    if awk '{print $6}' "$T_TMP/contents" | grep -qxF -- "$f"; then t_ok "contains $f"; else t_fail "lacks $f"; fi
done
grep -qE ' \./usr/bin/kubectl-idwatch -> idwatch$' "$T_TMP/contents" && t_ok "kubectl-idwatch -> idwatch" ||
    t_fail "no kubectl-idwatch link: $(grep kubectl "$T_TMP/contents")"
outside=$(awk '{print $6}' "$T_TMP/contents" | grep -vE '^\./(usr(/.*)?)?/?$' || true)
[ -z "$outside" ] && t_ok "everything under /usr" || t_fail "files outside /usr: $outside"
grep -E '^-' "$T_TMP/contents" | awk '$2 != "root/root" {bad=1} END {exit bad}' && t_ok "files owned by root" ||
    t_fail "files not owned by root/root"

# the packaged tree works where it is unpacked (nothing installed system-wide)
dpkg-deb -x "$deb" "$T_TMP/root"
mkdir -p "$T_TMP/home" "$T_TMP/cwd"
cd "$T_TMP/cwd"
out=$(env -u XDG_CONFIG_HOME -u IDWATCH_THEME HOME="$T_TMP/home" XDG_DATA_DIRS=/nonexistent \
    "$T_TMP/root/usr/bin/kubectl-idwatch" --print-config --theme high-contrast 2>&1) || true
grep -qxF "theme-file = $T_TMP/root/usr/share/idwatch/themes/high-contrast.theme  # found for theme" <<<"$out" &&
    t_ok "the unpacked package finds its themes" || t_fail "unpacked: $out"
t_done
