#!/bin/bash
# Every shuttlectl verb answers an unknown option and an option without its
# value the same way: exit 2, one line naming the option and the verb's
# --help.  (run keeps its own wording, shared with group files' errors:
# "run: --x: unknown option", checked by test-run-options.)
set -u
: "${SHUTTLECTL:=./shuttlectl}"
n=0
fail=0

# check VERB... : VALUED_OPTION
check() {
        local verb=$1 opt=$2 out rc
        n=$((n + 1))
        # shellcheck disable=SC2086
        out=$("$SHUTTLECTL" $verb --no-such-option 2>&1 >/dev/null); rc=$?
        if [ "$rc" = 2 ] && [ "$out" = "shuttlectl: ${verb% ls}: unknown option '--no-such-option' (see 'shuttlectl ${verb% ls} --help')" ]; then
                echo "ok $n - $verb: an unknown option is a usage error naming it"
        else
                echo "not ok $n - $verb: an unknown option: rc=$rc '$out'"; fail=1
        fi
        [ -n "$opt" ] || return 0
        n=$((n + 1))
        # shellcheck disable=SC2086
        out=$("$SHUTTLECTL" $verb "$opt" 2>&1 >/dev/null); rc=$?
        if [ "$rc" = 2 ] && [ "$out" = "shuttlectl: ${verb% ls}: option '$opt' needs a value (see 'shuttlectl ${verb% ls} --help')" ]; then
                echo "ok $n - $verb: $opt without its value is a usage error naming it"
        else
                echo "not ok $n - $verb: $opt without a value: rc=$rc '$out'"; fail=1
        fi
}

check "policy check" ""
check "policy explain" --from
check "policy show" ""
check "policy reload" --state-dir
check "policy reach" --from
check "policy test" ""
check "policy lint" --audit
check "policy shadow" --group
check "policy draft" --audit
check "audit" --file
check "audit graph" --file
check "audit explain" --file
check "ps" --state-dir
check "exec" --state-dir
check "kill" --state-dir
check "stop" --state-dir
check "logs" --state-dir
check "transfer ls" --state-dir
check "ask ls" --state-dir

# A relative --state-dir is refused by every verb that talks to a broker.
for verb in "policy reload" "policy shadow" ps "audit explain" "transfer ls" "ask ls"; do
        n=$((n + 1))
        # shellcheck disable=SC2086
        out=$("$SHUTTLECTL" $verb --state-dir relative/dir 2>&1 >/dev/null); rc=$?
        case $rc:$out in
        "2:shuttlectl: ${verb% ls}: --state-dir: 'relative/dir': expected an absolute path")
                echo "ok $n - $verb: a relative --state-dir is refused" ;;
        *) echo "not ok $n - $verb: a relative --state-dir: rc=$rc '$out'"; fail=1 ;;
        esac
done
echo "1..$n"
exit $fail
