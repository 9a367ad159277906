#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# TAP: what `make install DESTDIR=...` of this build puts where: the
# programs (shuttle-connect among them, statically linked), no libtool
# archive (.la), the default policy where the unit's --policy looks, which
# a second install leaves alone once it is changed; and `make uninstall`
# takes back everything but a changed policy.
set -u
: "${top_builddir:?}" "${top_srcdir:?}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
D=$tmp/root
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
diag() { sed 's/^/# /' "$@"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# A make of our own, not a job of the `make check` that runs us.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" "$@" DESTDIR="$D" >"$tmp/make.log" 2>&1; }
files() { (cd "$D" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | sort); }

if mk install; then ok "make install DESTDIR=... succeeds"; else
        not_ok "make install DESTDIR=... succeeds"; diag "$tmp/make.log"; echo "1..$n"; exit 1; fi
files >"$tmp/files"

connect=$(grep -E '/bin/shuttle-connect$' "$tmp/files")
check "shuttle-connect is installed in bindir ($connect)" test -n "$connect"
check "... linked statically (it runs in containers whatever their C library)" \
        sh -c "test -f '$D$connect' && ! readelf -l '$D$connect' | grep -q 'program interpreter'"
check "... with its man page" grep -q '/man1/shuttle-connect\.1$' "$tmp/files"
check "shuttled, shuttlectl and libshuttle.so.0 are installed" \
        sh -c "grep -q '/sbin/shuttled$' '$tmp/files' && grep -q '/bin/shuttlectl$' '$tmp/files' && grep -q '/libshuttle\.so\.0$' '$tmp/files'"
check "shuttle-oci is installed in sbindir, with its man page" \
        sh -c "grep -q '/sbin/shuttle-oci$' '$tmp/files' && grep -q '/man8/shuttle-oci\.8$' '$tmp/files'"
check "the bash completions of shuttlectl and shuttle-oci are installed under their names" \
        sh -c "grep -q '/bash-completion/completions/shuttlectl$' '$tmp/files' && grep -q '/bash-completion/completions/shuttle-oci$' '$tmp/files'"
if grep '\.la$' "$tmp/files" >"$tmp/la"; then not_ok "no libtool archive (.la) is installed"; diag "$tmp/la"; else
        ok "no libtool archive (.la) is installed"; fi

monitor=$(grep -E '/shuttle-monitor$' "$tmp/files")
check "shuttle-monitor (run --detach) is installed ($monitor)" test -n "$monitor"
check "... linked statically (no shared library stays mapped beside every detached container)" \
        sh -c "test -f '$D$monitor' && ! readelf -l '$D$monitor' | grep -q 'program interpreter'"

unit=$(grep -E '/systemd/system/shuttled\.service$' "$tmp/files")
check "the systemd unit is installed ($unit)" test -n "$unit"
check "... Type=notify" grep -qx 'Type=notify' "$D$unit"
policy=$(sed -n 's/^ExecStart=.* --policy \([^ ]*\) .*/\1/p' "$D$unit")
check "... its --policy is installed ($policy), the shipped default" cmp -s "$top_srcdir/policies/default.yaml" "$D$policy"

echo "# an operator's rule" >>"$D$policy"
cp "$D$policy" "$tmp/changed"
if mk install && cmp -s "$tmp/changed" "$D$policy"; then ok "a second make install leaves a changed policy alone"; else
        not_ok "a second make install leaves a changed policy alone"; diag "$tmp/make.log"; fi

mk uninstall
left=$(files)
check "make uninstall removes everything but the changed policy" test "$left" = "$policy"
rm -f "$D$policy"
mk install && mk uninstall
left=$(files)
check "... and an unchanged one too" test -z "$left"

echo "1..$n"
exit $failed
