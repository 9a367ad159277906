#!/bin/bash
# The bash completions (completion/shuttlectl, completion/shuttle-oci):
# completions of a few command lines, and every long option each verb's
# --help prints is in the script's list for that verb, so that the lists
# cannot drift from the programs.
set -u
: "${SHUTTLECTL:=./shuttlectl}"
script=${top_srcdir:-.}/completion/shuttlectl
n=0
fail=0

ok() {   # ok COND-STATUS DESCRIPTION [DIAGNOSTIC]
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else
                echo "not ok $n - $2"; [ -n "${3-}" ] && echo "# $3"; fail=1; fi
}

if [ ! -r "$script" ]; then
        echo "1..0 # SKIP $script not found"
        exit 0
fi
# shellcheck source=/dev/null
. "$script" || { echo "Bail out! cannot source $script"; exit 1; }

# comp WORD...: complete the last word of "WORD..." into $reply (one per line).
comp() {
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        "_${1//-/_}" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
        reply=$(printf '%s\n' "${COMPREPLY[@]}")
}
has() { grep -qxF -- "$1" <<<"$reply"; }   # has WORD: WORD is in $reply
only() { [ "$(echo $reply)" = "$*" ]; }    # only WORD...: exactly these, in order

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

verbs="run ps exec kill stop logs audit images"
policy_cmds=$("$SHUTTLECTL" policy --help 2>&1 | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')

comp shuttlectl r;                      has run;   ok $? "shuttlectl r<TAB> offers run" "got: $(echo $reply)"
comp shuttlectl "";                     has stop && has logs && has policy; ok $? "shuttlectl <TAB> offers the verbs" "got: $(echo $reply)"
comp shuttlectl run --ne;               only --net; ok $? "shuttlectl run --ne<TAB> gives --net" "got: $(echo $reply)"
comp shuttlectl run --net "";           only none loopback; ok $? "shuttlectl run --net <TAB> gives none loopback" "got: $(echo $reply)"
comp shuttlectl run --net = "";         only none loopback; ok $? "shuttlectl run --net=<TAB> gives none loopback" "got: $(echo $reply)"
comp shuttlectl kill x "";              has TERM && has KILL; ok $? "shuttlectl kill x <TAB> includes TERM and KILL" "got: $(echo $reply)"
comp shuttlectl images "";             only rm; ok $? "shuttlectl images <TAB> gives rm" "got: $(echo $reply)"
comp shuttlectl ps --format "";         only table json; ok $? "shuttlectl ps --format <TAB> gives table json" "got: $(echo $reply)"
comp shuttlectl audit --decision "";    only allow deny learn; ok $? "shuttlectl audit --decision <TAB> gives allow deny learn" "got: $(echo $reply)"
comp shuttlectl audit --kind "";        only ipc invoke transfer depend signal; ok $? "shuttlectl audit --kind <TAB> gives the kinds" "got: $(echo $reply)"
comp shuttlectl policy "";              has check && has explain; ok $? "shuttlectl policy <TAB> gives its commands" "got: $(echo $reply)"
comp shuttlectl audit "";               only graph explain; ok $? "shuttlectl audit <TAB> gives graph and explain" "got: $(echo $reply)"
comp shuttlectl audit graph --format ""; only dot svg png json; ok $? "shuttlectl audit graph --format <TAB> gives dot svg png json" "got: $(echo $reply)"
comp shuttlectl audit graph --po;       only --policy; ok $? "shuttlectl audit graph --po<TAB> gives --policy" "got: $(echo $reply)"
comp shuttlectl audit --po;             ! has --policy; ok $? "plain audit does not offer graph's --policy" "got: $(echo $reply)"
comp shuttlectl policy explain --mode ""; only ro wo rw; ok $? "shuttlectl policy explain --mode <TAB> gives ro wo rw" "got: $(echo $reply)"
comp shuttlectl policy reach --hops "";  has ipc-reply && has depend-rw; ok $? "shuttlectl policy reach --hops <TAB> gives the hops" "got: $(echo $reply)"
comp shuttlectl policy shadow --cl;    only --clear; ok $? "shuttlectl policy shadow --cl<TAB> gives --clear" "got: $(echo $reply)"
comp shuttlectl audit --sha;           only --shadow-diff; ok $? "shuttlectl audit --sha<TAB> gives --shadow-diff" "got: $(echo $reply)"
comp shuttlectl run -- sleep --ne;      ! has --net; ok $? "options after -- are CMD's, not run's" "got: $(echo $reply)"

# Files: GROUP.yaml for run -f, directories for --rootfs (besides host).
mkdir -p "$tmp/files/sub" && touch "$tmp/files/a.yaml" "$tmp/files/b.yml" "$tmp/files/c.txt"
(cd "$tmp/files" && comp shuttlectl run -f ""; has a.yaml && has b.yml && has sub && ! has c.txt)
ok $? "shuttlectl run -f <TAB> offers *.yaml, *.yml and directories only"
(cd "$tmp/files" && comp shuttlectl run --rootfs ""; has host && has sub && ! has a.yaml)
ok $? "shuttlectl run --rootfs <TAB> offers host and directories"
(cd "$tmp/files" && comp shuttlectl policy lint --group ""; has a.yaml && has b.yml && ! has c.txt)
ok $? "shuttlectl policy lint --group <TAB> offers group files"
(cd "$tmp/files" && comp shuttlectl policy draft --group ""; ! has a.yaml)
ok $? "shuttlectl policy draft --group <TAB> offers no files (it takes a group's name)"

# Names: a stand-in shuttlectl whose ps prints two containers, and a state
# directory with a group; --state-dir on the command line must be used.
mkdir -p "$tmp/bin" "$tmp/state/groups/webapp" "$tmp/other/groups/elsewhere"
cat >"$tmp/bin/shuttlectl" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/calls"
echo '[{"name":"db","group":"webapp","hostname":"nothere","command":["x","\\"name\\":\\"fake\\""]},{"name": "web-1","group":null}]'
EOF
chmod +x "$tmp/bin/shuttlectl"
PATH=$tmp/bin:$PATH
comp shuttlectl kill "";                only db web-1; ok $? "kill <TAB> offers the names from ps --format json" "got: $(echo $reply)"
comp shuttlectl exec d;                 only db; ok $? "exec d<TAB> offers db" "got: $(echo $reply)"
comp shuttlectl stop --state-dir "$tmp/state" "";
has webapp && has db && has web-1 && ! has elsewhere; ok $? "stop --state-dir DIR <TAB> offers DIR's groups and the containers" "got: $(echo $reply)"
grep -q -- "ps --state-dir $tmp/state --format json" "$tmp/calls"
ok $? "ps is asked with the --state-dir of the command line" "calls: $(tr '\n' ';' <"$tmp/calls")"
rm -f "$tmp/calls"
comp shuttlectl policy shadow --state-dir "$tmp/state" --group "";
only webapp; ok $? "policy shadow --state-dir DIR --group <TAB> offers DIR's groups" "got: $(echo $reply)"
comp shuttlectl audit --state-dir "$tmp/other" --from "";
only db web-1 && grep -q -- "ps --state-dir $tmp/other --format json" "$tmp/calls"
ok $? "audit --state-dir DIR --from <TAB> offers DIR's containers" "got: $(echo $reply); calls: $(tr '\n' ';' <"$tmp/calls" 2>/dev/null)"

# Every long option of each verb's --help is completed for it.
check_opts() {   # check_opts LABEL HELP-TEXT WORD...
        local label=$1 help=$2 missing=
        shift 2
        comp "$@" --
        for o in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
                has "$o" || missing="$missing $o"
        done
        [ -n "$help" ] && [ -z "$missing" ]
        ok $? "every option of '$label --help' is completed" "missing from the script:$missing"
}
for verb in $verbs; do
        check_opts "shuttlectl $verb" "$("$SHUTTLECTL" $verb --help 2>&1)" shuttlectl "$verb"
done
check_opts "shuttlectl audit graph" "$("$SHUTTLECTL" audit graph --help 2>&1)" shuttlectl audit graph
for sub in $policy_cmds; do
        check_opts "shuttlectl policy $sub" "$("$SHUTTLECTL" policy $sub --help 2>&1)" shuttlectl policy "$sub"
done
# The global options (before the verb); the Commands: list is the verbs.
help=$("$SHUTTLECTL" --help 2>&1)
want=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' <<<"$help" | sort)
comp shuttlectl ""; reply=$(sort <<<"$reply")
[ -n "$want" ] && [ "$reply" = "$want" ]
ok $? "the verbs completed are the Commands of 'shuttlectl --help'" "--help: $(echo $want); script: $(echo $reply)"
check_opts "shuttlectl" "$(sed -n '/^Options:/,$p' <<<"$help")" shuttlectl
comp shuttlectl policy ""
[ -n "$policy_cmds" ] && [ "$(echo $reply)" = "$(echo $policy_cmds)" ]
ok $? "the policy commands completed are those of 'shuttlectl policy --help'" "--help: $(echo $policy_cmds); script: $(echo $reply)"
# ---- shuttle-oci ----
OCI=${SHUTTLE_OCI:-$(dirname "$SHUTTLECTL")/shuttle-oci}
oci_script=${top_srcdir:-.}/completion/shuttle-oci
# shellcheck source=/dev/null
. "$oci_script" || { echo "Bail out! cannot source $oci_script"; exit 1; }
help=$("$OCI" --help 2>&1)
oci_verbs=$(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p' <<<"$help" | sort)
comp shuttle-oci ""; reply=$(sort <<<"$reply")
[ -n "$oci_verbs" ] && [ "$reply" = "$oci_verbs" ]
ok $? "the verbs completed are the Commands of 'shuttle-oci --help'" "--help: $(echo $oci_verbs); script: $(echo $reply)"
check_opts "shuttle-oci" "$(sed -n '/^Global options:/,$p' <<<"$help")" shuttle-oci
for verb in $oci_verbs; do
        [ "$verb" = help ] && continue
        # the option lines (a description may name a global option)
        check_opts "shuttle-oci $verb" "$("$OCI" "$verb" --help 2>&1 | grep -E "^ +-")" shuttle-oci "$verb"
done
comp shuttle-oci --log-format "";       only text json; ok $? "shuttle-oci --log-format <TAB> gives text json" "got: $(echo $reply)"
comp shuttle-oci --root /x li;          only list; ok $? "shuttle-oci --root DIR li<TAB> gives list (a global option's value is not the verb)" "got: $(echo $reply)"
comp shuttle-oci list --format "";      only table json; ok $? "shuttle-oci list --format <TAB> gives table json" "got: $(echo $reply)"
comp shuttle-oci update --re;           only --resources; ok $? "shuttle-oci update --re<TAB> gives --resources" "got: $(echo $reply)"
comp shuttle-oci events --st;           only --stats; ok $? "shuttle-oci events --st<TAB> gives --stats" "got: $(echo $reply)"
(cd "$tmp/files" && touch r.json && comp shuttle-oci update --resources ""; has - && has r.json && ! has c.txt)
ok $? "shuttle-oci update --resources <TAB> offers - and *.json"
# IDs: a stand-in shuttle-oci whose list prints two containers; the --root
# of the command line must be passed on.
printf '#!/bin/sh\necho "$*" >>"%s/oci-calls"\n%s\n' "$tmp" \
        "echo '[{\"ociVersion\":\"1.0.2\",\"id\":\"web\",\"pid\":1,\"status\":\"running\"},{\"ociVersion\":\"1.0.2\",\"id\":\"db.1\",\"status\":\"created\"}]'" \
        >"$tmp/bin/shuttle-oci"
chmod +x "$tmp/bin/shuttle-oci"
comp shuttle-oci --root "$tmp/r" kill "";  only web db.1; ok $? "shuttle-oci kill <TAB> offers the IDs from list --format json" "got: $(echo $reply)"
grep -qxF -- "--root $tmp/r list --format json" "$tmp/oci-calls"
ok $? "list is asked with the --root of the command line" "calls: $(tr '\n' ';' <"$tmp/oci-calls" 2>/dev/null)"
comp shuttle-oci delete -f "";          only web db.1; ok $? "delete -f is --force (no value): the IDs follow" "got: $(echo $reply)"
comp shuttle-oci kill web "";           has TERM && has KILL; ok $? "shuttle-oci kill ID <TAB> gives signals" "got: $(echo $reply)"
comp shuttle-oci update --memory 1G d;  only db.1; ok $? "update --memory 1G d<TAB> gives db.1 (an option's value is not the ID)" "got: $(echo $reply)"
comp shuttle-oci create --bundle . "";  only; ok $? "create offers no existing ID" "got: $(echo $reply)"
comp shuttle-oci exec web --pro;        ! has --process; ok $? "after exec ID, the words are the command's" "got: $(echo $reply)"

# The plan comes last (TAP allows it): no count to keep in step.
echo "1..$n"
exit $fail
