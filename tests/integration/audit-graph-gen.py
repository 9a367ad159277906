#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes an audit log of a made-up site, for `shuttlectl audit graph` at
scale (tests/integration/audit-graph.sh, and to look at by hand):

    audit-graph-gen.py LOG [POLICY] [--groups N]

N app groups (default 20) of ten containers each, named GROUP-web,
GROUP-api, ... (GROUP = shop01 ...), and a group 'infra' with auth, logs
and dns: 10 N + 3 containers.  In each group web calls api, api calls db
and cache, worker drains queue and writes db (a few refused), mail
invokes the viewer and hands it files, backup depends on db's tree,
metrics' signals to worker are refused, web's direct tries at db are
refused (one summary of 20 repeats) and one denial over the budget;
every api reaches infra-auth, every web infra-logs.  Timestamps run from
2024-05-01T12:00:00Z, one second per record.  The records have no hash
chain (the graph does not read it).

With POLICY, also writes the policy that allows what the site does
(and backup's depend on api's tree too, never used)."""
import json
import sys

ROLES = ["web", "api", "db", "cache", "queue", "worker", "mail", "viewer", "backup", "metrics"]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    groups = 20
    if "--groups" in sys.argv:
        groups = int(sys.argv[sys.argv.index("--groups") + 1])
        args.remove(str(groups))
    log, policy = args[0], args[1] if len(args) > 1 else None
    seq = 0
    out = open(log, "w")

    def rec(group, frm, to, kind, op, obj, decision, rule, **extra):
        nonlocal seq
        seq += 1
        r = {"ts": "2024-05-01T%02d:%02d:%02d.000000Z" % (12 + seq // 3600, seq // 60 % 60, seq % 60),
             "seq": seq, "group": group, "from": frm, "to": to, "kind": kind, "op": op, "object": obj,
             "decision": decision, "rule": rule, "reason": None}
        r.update(extra)
        out.write(json.dumps(r, separators=(",", ":")) + "\n")

    names = ["shop%02d" % (i + 1) for i in range(groups)]
    for c in ["auth", "logs", "dns"]:
        rec("infra", "infra-" + c, "infra-" + c, "container", "start", "infra-" + c, "allow", "-")
    for g in names:
        for role in ROLES:
            rec(g, "%s-%s" % (g, role), "%s-%s" % (g, role), "container", "start", "%s-%s" % (g, role), "allow", "-")
    for g in names:
        n = lambda role: "%s-%s" % (g, role)
        for _ in range(5):
            rec(g, n("web"), n("api"), "ipc", "connect", n("api") + ".http", "allow", g + "-web-api")
        for _ in range(4):
            rec(g, n("api"), n("db"), "ipc", "connect", n("db") + ".sql", "allow", g + "-api-db")
        for _ in range(3):
            rec(g, n("api"), n("cache"), "ipc", "connect", n("cache") + ".kv", "allow", g + "-api-cache")
        for _ in range(2):
            rec(g, n("worker"), n("queue"), "ipc", "open", n("queue") + ".jobs", "allow", g + "-worker-queue")
        rec(g, n("worker"), n("db"), "ipc", "connect", n("db") + ".sql", "allow", g + "-worker-db")
        rec(g, n("worker"), n("db"), "ipc", "connect", n("db") + ".admin", "deny", "no-admin")
        rec(g, n("mail"), n("viewer"), "invoke", "exec", "/usr/bin/pdfview", "allow", g + "-mail-opens-pdf")
        rec(g, n("mail"), n("viewer"), "invoke", "end", "/usr/bin/pdfview", "allow", g + "-mail-opens-pdf")
        rec(g, n("mail"), n("viewer"), "transfer", "open", "/home/mail/a.pdf", "allow", g + "-mail-hands-pdf")
        rec(g, n("backup"), n("db"), "depend", "mount", "/var/lib/db", "allow", g + "-backup-db")
        rec(g, n("metrics"), n("worker"), "signal", "kill", "/usr/bin/worker", "deny", "default")
        for _ in range(3):
            rec(g, n("web"), n("db"), "ipc", "connect", n("db") + ".sql", "deny", "default")
        rec(g, n("web"), n("db"), "ipc", "connect", n("db") + ".sql", "deny", "default", suppressed=20,
            first="2024-05-01T12:00:00Z", last="2024-05-01T12:00:09Z")
        rec(g, n("viewer"), None, "ipc", None, None, "deny", None, suppressed=7, over_budget=True)
        rec(g, n("api"), "infra-auth", "ipc", "connect", "infra-auth.token", "allow", "api-auth")
        rec(g, n("web"), "infra-logs", "ipc", "connect", "infra-logs.syslog", "allow", "all-log")
    out.close()

    if policy:
        with open(policy, "w") as p:
            p.write("version: 1\ndefault: deny\nrules:\n"
                    "  - { id: api-auth, from: \"*-api\", to: infra/infra-auth, allow: ipc, endpoint: token }\n"
                    "  - { id: all-log, from: \"*-web\", to: infra/infra-logs, allow: ipc, endpoint: syslog }\n"
                    "  - { id: no-admin, from: \"*\", to: \"*-db\", deny: ipc, endpoint: admin }\n")
            for g in names:
                for rid, frm, to, what in [
                        ("web-api", "web", "api", "allow: ipc, endpoint: http"),
                        ("api-db", "api", "db", "allow: ipc, endpoint: sql"),
                        ("api-cache", "api", "cache", "allow: ipc, endpoint: kv"),
                        ("worker-queue", "worker", "queue", "allow: ipc, endpoint: jobs, type: mq"),
                        ("worker-db", "worker", "db", "allow: ipc, endpoint: \"*\""),
                        ("mail-opens-pdf", "mail", "viewer", "allow: invoke, app: /usr/bin/pdfview"),
                        ("mail-hands-pdf", "mail", "viewer", "allow: transfer, path: \"/home/mail/**\", mode: ro"),
                        ("backup-db", "backup", "db", "allow: depend, path: /var/lib/db"),
                        ("backup-api", "backup", "api", "allow: depend, path: /srv/api")]:
                    p.write("  - { id: %s-%s, from: %s/%s-%s, to: %s/%s-%s, %s }\n"
                            % (g, rid, g, g, frm, g, g, to, what))


if __name__ == "__main__":
    main()
