#!/bin/bash
# The mail-viewer example end to end: shuttlectl run --detach GROUP.yaml;
# mail opens its PDF attachment with the viewer that lives in the viewer
# container (an invoke, the file transferred read-only), then its attempt
# to have the viewer write into it is refused; both are in the audit log,
# the transfer is gone afterwards and stop leaves nothing behind.
. "$(dirname "$0")/lib.sh"
require_root
plan 26
# A detached group outlives this script unless stopped: stop it on any exit.
cleanup_example() {
        "$SHUTTLECTL" stop --state-dir "$STATE_DIR" --time 2 mailviewer >/dev/null 2>&1
        cleanup_lib
}
trap cleanup_example EXIT

ex=$T/mail-viewer
mkdir -p "$ex/bin"
cp "${top_srcdir:-.}/examples/mail-viewer/group.yaml" "${top_srcdir:-.}/examples/mail-viewer/policy.yaml" \
   "${top_srcdir:-.}/examples/mail-viewer/invoice.pdf" "$ex/"
cp "${top_builddir:-.}/examples/mail-viewer/pdfview" "$ex/bin/"
# What the viewer shows for the attachment, run here on the original.
details=$("$ex/bin/pdfview" "$ex/invoice.pdf" | sed -n 2p | sed 's/[][\\.*^$()+?{}|]/\\&/g')
start_broker || { echo "Bail out! shuttled did not start"; exit 1; }
mount_points >"$T/mounts-before"

out=$("$SHUTTLECTL" run --state-dir "$STATE_DIR" --detach "$ex/group.yaml" 2>&1)
check_match "run --detach brings the group up and returns" "group 'mailviewer' is up" "$out"
check_nomatch "... the group and its policy load without a warning" "warning|error" "$out"
out=$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1)
check_match "ps lists viewer" "^viewer +mailviewer +running" "$out"
check_match "ps lists mail" "^mail +mailviewer +running" "$out"

logs() { "$SHUTTLECTL" logs --state-dir "$STATE_DIR" mail 2>&1; }
i=0 # up to 20 s: the invoke runs a program in another container
until logs | grep -q 'mail: done' || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done
out=$(logs)
check_match "the viewer got the attachment as /run/shuttle/xfer/<id>/invoice.pdf" \
        "^pdfview: /run/shuttle/xfer/[0-9]+/invoice.pdf$" "$out"
check_match "... and printed its details (version, size, pages, checksum) as for the original" \
        "^${details}$" "$out"
check_match "... read from a read-only mount" "access: read-only" "$out"
check_match "... and exited 0" "mail: the viewer exited with status 0" "$out"
check_match "the write-back (pdfview --annotate FILE) is refused by the broker" \
        "shuttle-invoke: /opt/viewer/pdfview in 'viewer': Permission denied" "$out"
check_match "... with exit status 125" "mail: the write-back exited with status 125" "$out"
check_nomatch "... and the viewer never ran for it" "annotate" "$(echo "$out" | grep '^pdfview')"
check_match "... the attachment is unchanged" "mail: the attachment is unchanged" "$out"

# The group's policy gives mail an apps/ entry for the viewer.
mx() { "$SHUTTLECTL" exec --state-dir "$STATE_DIR" "$@"; }
check_eq "mail has /run/shuttle/apps/viewer/pdfview (the group policy's rule), a link to shuttle-invoke" \
        "pdfview /run/shuttle-bin/shuttle-invoke" \
        "$(mx mail -- sh -c 'ls -A /run/shuttle/apps/viewer; readlink /run/shuttle/apps/viewer/pdfview' 2>&1 | tr '\n' ' ' | sed 's/ $//')"
check_eq "... viewer, which may invoke nothing, has no entries" "0" \
        "$(mx viewer -- sh -c 'ls -A /run/shuttle/apps | wc -l' 2>&1)"
check_match "exec of the entry opens the attachment in the viewer" "^pdfview: /run/shuttle/xfer/[0-9]+/invoice.pdf" \
        "$(mx mail -- /run/shuttle/apps/viewer/pdfview /home/user/invoice.pdf 2>&1)"

check_match "the audit log has the invoke, allowed by mail-opens-pdf" \
        '"group":"mailviewer","from":"mail","to":"viewer","kind":"invoke","op":"exec","object":"/opt/viewer/pdfview /home/user/invoice.pdf","decision":"allow","rule":"mail-opens-pdf"' \
        "$(audit_grep '"kind":"invoke"')"
check_match "... and the write-back attempt, denied" \
        '"group":"mailviewer","from":"mail","to":"viewer","kind":"invoke","op":"exec","object":"/opt/viewer/pdfview --annotate /home/user/invoice.pdf","decision":"deny","rule":"default"' \
        "$(audit_grep '"kind":"invoke"')"
check_match "... and the transfer's revocation when the viewer ended" \
        '"from":"mail","to":"viewer","kind":"transfer","op":"revoke","object":"/home/user/invoice.pdf".*"reason":"invocation ended"' \
        "$(audit_grep '"op":"revoke"')"
out=$("$SHUTTLECTL" audit --file "$AUDIT_LOG" --kind invoke 2>&1)
check_match "shuttlectl audit --kind invoke shows the allow and the deny" \
        "allow +invoke +exec +mail → viewer .*mail-opens-pdf.*deny +invoke +exec +mail → viewer .*default" "$(echo $out)"

check_eq "no transfer is left (transfer ls --json)" "[]" \
        "$("$SHUTTLECTL" transfer ls --state-dir "$STATE_DIR" --json 2>&1 | tr -d ' \n')"
check_eq "... and nothing is mounted at /run/shuttle/xfer in viewer" "0 0" \
        "$("$SHUTTLECTL" exec --state-dir "$STATE_DIR" viewer -- sh -c 'grep -c " /run/shuttle/xfer/" /proc/self/mountinfo; ls /run/shuttle/xfer | wc -l' 2>&1 | tr '\n' ' ' | sed 's/ $//')"

out=$("$SHUTTLECTL" stop --state-dir "$STATE_DIR" mailviewer 2>&1; echo "rc=$?")
check_match "stop GROUP stops the group" "rc=0" "$out"
check_eq "no container of the group is left" "" "$("$SHUTTLECTL" ps --state-dir "$STATE_DIR" 2>&1 | tail -n +2)"
check_eq "no cgroup, container mount or state is left" "" "$(leftovers mail; leftovers viewer)"
check_eq "no mount is left" "" "$(mounts_left "$T/mounts-before")"
"$SHUTTLECTL" audit --file "$AUDIT_LOG" --verify >"$T/verify" 2>&1
check_eq "the audit chain verifies" "0" "$?"
stop_broker
finish
