#!/bin/sh
# Sets up a fresh Debian 12 machine and runs the main example, as root:
# installs the Debian packages, builds Shuttle, starts the broker, brings up
# the webapp app group (a web server and its database in separate
# containers, plus an intruder) on the built-in `host` rootfs, makes one
# allowed and one refused request, shows `shuttlectl ps` and the audit
# records, and stops everything again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
ex=$top/examples/webapp
state=/run/shuttle

"$top/scripts/install-deps.sh"
BUILD_DIR=$build "$top/scripts/build.sh"

mkdir -p "$ex/bin"
cp "$build/examples/webapp/kvd" "$build/examples/webapp/webd" "$build/examples/webapp/kvcli" "$ex/bin/"

ctl() { "$build/shuttlectl" "$@"; }
broker_pid=
cleanup() {
        ctl stop webapp >/dev/null 2>&1 || true
        if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

# A broker runs if one answers on control.sock (a file left by one that
# was killed is not a broker); then it is the operator's and stays.
broker_answers() { ctl transfer ls --state-dir "$state" >/dev/null 2>&1; }
if ! broker_answers; then
        echo "== starting the broker (audit log: /var/log/shuttle/audit.jsonl)"
        "$build/shuttled" --foreground --state-dir "$state" 2>/tmp/shuttled-example.log &
        broker_pid=$!
        i=0
        until broker_answers || [ $i -ge 200 ]; do
                kill -0 "$broker_pid" 2>/dev/null || { cat /tmp/shuttled-example.log >&2; exit 1; }
                sleep 0.05; i=$((i + 1))
        done
fi

echo "== shuttlectl run --detach examples/webapp/group.yaml"
ctl run --detach "$ex/group.yaml"

echo
echo "== an allowed request: HTTP GET /kv/greeting on web, which asks db through /run/shuttle/svc/db.kv"
ctl exec web -- bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080; printf "GET /kv/greeting HTTP/1.0\r\n\r\n" >&3; cat <&3' | tr -d '\r'

echo
echo "== a refused request: intruder asks the broker for db.kv"
ctl exec intruder -- /opt/webapp/kvcli --broker db.kv GET greeting || echo "(refused, exit status $?)"

echo
echo "== shuttlectl ps"
ctl ps

echo
echo "== the last audit records about IPC"
ctl audit --kind ipc | tail -n 6

echo
echo "== shuttlectl stop webapp"
ctl stop webapp
