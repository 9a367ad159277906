#!/bin/bash
# Every option a --help lists is documented in the man page, and every
# option the man page documents for that command is in --help.
set -u
: "${SHUTTLECTL:=./shuttlectl}"
: "${SHUTTLED:=./shuttled}"
man=${top_srcdir:-.}/man
n=0
fail=0

# compare NAME HELP_TEXT MAN_FILE SED_RANGE
compare() {
        local name=$1 help=$2 file=$3 range=$4 help_opts man_opts missing extra
        help_opts=$(echo "$help" | grep -oE -- '--[a-z][a-z-]+' | sort -u)
        man_opts=$(sed -n "$range" "$file" | sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z-]+' | sort -u)
        missing=$(comm -23 <(echo "$help_opts") <(echo "$man_opts"))
        extra=$(comm -13 <(echo "$help_opts") <(echo "$man_opts"))
        n=$((n + 1))
        if [ -z "$missing" ]; then echo "ok $n - every $name option in --help is in $(basename "$file")"; else
                echo "not ok $n - $name options in --help but not in $(basename "$file"): $(echo $missing)"; fail=1; fi
        n=$((n + 1))
        if [ -z "$extra" ]; then echo "ok $n - every $name option in $(basename "$file") is in --help"; else
                echo "not ok $n - $name options in $(basename "$file") but not in --help: $(echo $extra)"; fail=1; fi
}

compare "shuttlectl run" "$("$SHUTTLECTL" run --help)" "$man/shuttlectl.1" '/^\.SH RUN/,/^\.SH POLICY/p'
compare "shuttled" "$("$SHUTTLED" --help)" "$man/shuttled.8" '/^\.SH OPTIONS/,/^\.SH SIGNALS/p'
# policy: every subcommand's options, against the POLICY section.
compare "shuttlectl policy" "$(for sub in check explain show reload reach; do "$SHUTTLECTL" policy $sub --help; done)" \
        "$man/shuttlectl.1" '/^\.SH POLICY$/,/^\.SH /p'
compare "shuttlectl policy test" "$("$SHUTTLECTL" policy test --help)" "$man/shuttlectl.1" '/^\.SH POLICY TEST$/,/^\.SH /p'
compare "shuttlectl policy lint" "$("$SHUTTLECTL" policy lint --help)" "$man/shuttlectl.1" '/^\.SH POLICY LINT$/,/^\.SH /p'
compare "shuttlectl policy shadow" "$("$SHUTTLECTL" policy shadow --help)" "$man/shuttlectl.1" '/^\.SH POLICY SHADOW$/,/^\.SH /p'
compare "shuttlectl policy draft" "$("$SHUTTLECTL" policy draft --help)" "$man/shuttlectl.1" '/^\.SH POLICY DRAFT$/,/^\.SH /p'
compare "shuttlectl transfer" "$("$SHUTTLECTL" transfer --help)" "$man/shuttlectl.1" '/^\.SH TRANSFER/,/^\.SH ASK/p'
compare "shuttlectl ask" "$("$SHUTTLECTL" ask --help)" "$man/shuttlectl.1" '/^\.SH ASK/,/^\.SH PS/p'
# audit up to its first subcommand's .SS; each subcommand to the next .SS or .SH.
compare "shuttlectl audit" "$("$SHUTTLECTL" audit --help)" "$man/shuttlectl.1" '/^\.SH AUDIT/,/^\.S[SH] /p'
compare "shuttlectl audit graph" "$("$SHUTTLECTL" audit graph --help)" "$man/shuttlectl.1" '/^\.SS audit graph/,/^\.S[SH] /p'
compare "shuttlectl audit explain" "$("$SHUTTLECTL" audit explain --help)" "$man/shuttlectl.1" '/^\.SS audit explain/,/^\.S[SH] /p'
# The verbs on running containers: each section runs to the next .SH.
for verb in ps exec kill stop logs images; do
        upper=$(echo "$verb" | tr a-z A-Z)
        compare "shuttlectl $verb" "$("$SHUTTLECTL" $verb --help)" "$man/shuttlectl.1" "/^\\.SH $upper\$/,/^\\.SH /p"
done
# The helpers inside containers, each with its own page.
bin=$(dirname "$SHUTTLECTL")
compare "shuttle-invoke" "$("$bin/shuttle-invoke" --help)" "$man/shuttle-invoke.1" '/^\.SH OPTIONS/,/^\.SH EXIT/p'
compare "shuttle-name" "$("$bin/shuttle-name" --help)" "$man/shuttle-name.1" '/^\.SH OPTIONS/,/^\.SH EXIT/p'
compare "shuttle-transfer" "$("$bin/shuttle-transfer" --help)" "$man/shuttle-transfer.1" '/^\.SH OPTIONS/,/^\.SH EXIT/p'
compare "shuttle-connect" "$("$bin/shuttle-connect" --help)" "$man/shuttle-connect.1" '/^\.SH OPTIONS/,/^\.SH EXIT/p'
# shuttle-oci: the global options, then each verb's section.
oci=$bin/shuttle-oci
compare "shuttle-oci" "$("$oci" --help)" "$man/shuttle-oci.8" '/^\.SH GLOBAL OPTIONS/,/^\.SH CREATE/p'
for verb in create start state kill delete run list ps exec pause resume update events spec features; do
        upper=$(echo "$verb" | tr a-z A-Z)
        compare "shuttle-oci $verb" "$("$oci" $verb --help)" "$man/shuttle-oci.8" "/^\\.SH $upper\$/,/^\\.SH /p"
done
# The plan comes last (TAP allows it): one number fewer to keep in step.
echo "1..$n"
exit $fail
