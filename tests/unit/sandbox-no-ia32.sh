#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-sandbox on a kernel without the i386 ABI of 64-bit processes (6.18
# without IA32 emulation: "int $0x80" faults).  SHUTTLE_TEST_NO_IA32=1 makes
# its probe die of SIGSEGV as it would there.  test_seccomp_i386 must be a
# skip that says why, the 64-bit checks must still run, and exactly the
# planned tests must run: a probe that went back into cmocka's runner
# through its SIGSEGV handler ran tests 12-15 again ("too many tests run").
set -u
bin=${top_builddir:-.}/tests/unit/test-sandbox
echo "1..5"
if [[ ! -x $bin ]]; then
        for i in 1 2 3 4 5; do echo "not ok $i - $bin was not built"; done
        exit 0
fi
out=$(SHUTTLE_TEST_NO_IA32=1 CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$bin" 2>&1)
rc=$?
fail() { echo "not ok $1 - $2"; sed 's/^/# | /' <<<"$out" | head -60; }

plans=$(grep -cE '^1\.\.[0-9]+$' <<<"$out")
plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' <<<"$out" | head -1)
results=$(grep -cE '^(not )?ok [0-9]+' <<<"$out")
names=$(grep -oE '^(not )?ok [0-9]+( -| # SKIP) test_[a-z0-9_]+' <<<"$out" | awk '{ print $NF }')
if [[ $plans == 1 && -n $plan && $results == "$plan" && $(sort -u <<<"$names" | wc -l) == "$plan" ]]; then
        echo "ok 1 - exactly the $plan planned tests ran, each once"
else
        fail 1 "exactly the planned tests ran, each once (plans: $plans, planned: ${plan:-?}, results: $results)"
fi
if grep -qE '^not ok [0-9]+ # SKIP test_seccomp_i386$' <<<"$out"; then
        echo "ok 2 - test_seccomp_i386 is a skip"
else
        fail 2 "test_seccomp_i386 is a skip"
fi
if grep -qF '# test_seccomp_i386: skipped: no i386 ABI on this kernel (int $0x80 killed the probe with SIGSEGV)' <<<"$out"; then
        echo "ok 3 - ... that says why"
else
        fail 3 "... that says why"
fi
if grep -qE '^ok [0-9]+ - test_seccomp_default$|^not ok [0-9]+ # SKIP test_seccomp_default$' <<<"$out" &&
   ! grep -qE '^not ok [0-9]+ - ' <<<"$out"; then
        echo "ok 4 - the other tests, test_seccomp_default among them, pass (or skip) as usual"
else
        fail 4 "the other tests, test_seccomp_default among them, pass (or skip) as usual"
fi
if [[ $rc == 0 ]]; then
        echo "ok 5 - test-sandbox exits 0"
else
        fail 5 "test-sandbox exits 0 (exit status $rc)"
fi
exit 0
