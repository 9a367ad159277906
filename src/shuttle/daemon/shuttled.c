/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttled: the broker daemon (a thin main over broker.c). */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/parse.h"
#include "shuttle/audit/audit.h"
#include "shuttle/daemon/broker.h"
#include "shuttle/daemon/notify.h"

static const char usage[] =
        "Usage: shuttled [OPTIONS]\n"
        "\n"
        "The Shuttle broker: decides, carries out and audits every interaction\n"
        "between containers.\n"
        "\n"
        "Options:\n"
        "      --foreground         stay in the foreground, log to stderr\n"
        "      --state-dir DIR      runtime state (default /run/shuttle)\n"
        "      --audit-log FILE     audit log (default /var/log/shuttle/audit.jsonl)\n"
        "      --audit-max-size SIZE\n"
        "                           rotate the audit log at SIZE bytes (K, M, G\n"
        "                           suffixes; default 64M)\n"
        "      --audit-keep N       rotated audit files kept (1-999, default 8); the\n"
        "                           log records what rotation deletes\n"
        "      --audit-sync MODE    sync (default): an allowed request is answered\n"
        "                           once its record is on disk (group commit);\n"
        "                           batch: records synced every 100 ms or 1024\n"
        "                           records, answers not waiting for them\n"
        "      --policy FILE        policy file or directory (repeatable; default:\n"
        "                           deny everything)\n"
        "      --approved FILE      where 'shuttlectl ask allow --always' writes rules\n"
        "                           (default: policy.d/50-approved.yaml next to the\n"
        "                           first --policy, in it if it is a directory); the\n"
        "                           *.yaml files of its directory are loaded after\n"
        "                           the --policy files\n"
        "      --log-level LEVEL    error, warning, notice, info (default), debug\n"
        "  -h, --help               show this help\n"
        "      --version            print the version\n";

int main(int argc, char **argv) {
        enum {
                OPT_FOREGROUND = 0x100, OPT_STATE_DIR, OPT_AUDIT_LOG, OPT_AUDIT_MAX_SIZE, OPT_AUDIT_KEEP, OPT_POLICY,
                OPT_LOG_LEVEL, OPT_VERSION, OPT_AUDIT_SYNC, OPT_APPROVED
        };
        static const struct option options[] = {
                { "foreground", no_argument, NULL, OPT_FOREGROUND },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
                { "audit-max-size", required_argument, NULL, OPT_AUDIT_MAX_SIZE },
                { "audit-keep", required_argument, NULL, OPT_AUDIT_KEEP },
                { "audit-sync", required_argument, NULL, OPT_AUDIT_SYNC },
                { "policy", required_argument, NULL, OPT_POLICY },
                { "approved", required_argument, NULL, OPT_APPROVED },
                { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, OPT_VERSION },
                {}
        };
        BrokerOptions o = {};
        _cleanup_free_ const char **policy = calloc((size_t) argc + 1, sizeof(char *));
        bool foreground = false;
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ char *notify_socket = NULL;
        Broker *b = NULL;
        int notify_fd = -1;
        LogLevel level;
        int opt, r;

        log_set_program("shuttled");
        if (!policy)
                return 1;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (opt) {
                case OPT_FOREGROUND:
                        foreground = true;
                        break;
                case OPT_STATE_DIR:
                        if (optarg[0] != '/') {
                                log_error("--state-dir: '%s': expected an absolute path", optarg);
                                return 2;
                        }
                        o.state_dir = optarg;
                        break;
                case OPT_AUDIT_LOG:
                        o.audit_log = optarg;
                        break;
                case OPT_AUDIT_MAX_SIZE:
                        /* Below a few KiB every record would rotate. */
                        if (parse_size(optarg, &o.audit_max_size) < 0 || o.audit_max_size < 4096) {
                                log_error("--audit-max-size: '%s': expected a size of at least 4K", optarg);
                                return 2;
                        }
                        break;
                case OPT_AUDIT_KEEP: {
                        uint32_t n;
                        if (parse_uint32(optarg, &n) < 0 || n < 1 || n > AUDIT_KEEP_MAX) {
                                log_error("--audit-keep: '%s': expected a number from 1 to %u", optarg,
                                          AUDIT_KEEP_MAX);
                                return 2;
                        }
                        o.audit_keep = n;
                        break;
                }
                case OPT_AUDIT_SYNC:
                        if (streq(optarg, "sync"))
                                o.audit_batch = false;
                        else if (streq(optarg, "batch"))
                                o.audit_batch = true;
                        else {
                                log_error("--audit-sync: '%s': expected sync or batch", optarg);
                                return 2;
                        }
                        break;
                case OPT_POLICY:
                        policy[o.n_policy++] = optarg;
                        break;
                case OPT_APPROVED:
                        if (optarg[0] != '/' || optarg[strlen(optarg) - 1] == '/') {
                                log_error("--approved: '%s': expected the absolute path of a file", optarg);
                                return 2;
                        }
                        o.approved_file = optarg;
                        break;
                case OPT_LOG_LEVEL:
                        if (log_parse_level(optarg, &level) < 0) {
                                log_error("--log-level: '%s': expected error, warning, notice, info or debug",
                                          optarg);
                                return 2;
                        }
                        log_set_max_level(level);
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 0;
                case OPT_VERSION:
                        printf("shuttled %s\n", PACKAGE_VERSION);
                        return 0;
                case ':':
                        log_error("%s: missing value", argv[optind - 1]);
                        return 2;
                default:
                        log_error("%s: unknown option (see 'shuttled --help')", argv[optind - 1]);
                        return 2;
                }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return 2;
        }
        if (geteuid() != 0) {
                log_error("shuttled must run as root");
                return 1;
        }
        o.policy = policy;
        /* The service manager's readiness socket (Type=notify): kept for
         * us alone, out of the environment of what we start.  Only a
         * broker in the foreground is the service's main process; one
         * that detaches (started by shuttlectl, say, in whatever unit that
         * runs in) reports to whoever started it through the pipe below,
         * and tells that unit's manager nothing. */
        notify_socket = notify_socket_take();
        o.notify_socket = foreground ? notify_socket : NULL;
        /* Every container costs the broker descriptors (its socket, its
         * pidfd, its clients, named processes, transfers): take all the
         * hard limit allows, and give the apps it starts the soft limit we
         * were started with. */
        {
                struct rlimit rl;
                if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                        o.child_nofile = rl.rlim_cur;
                        rl.rlim_cur = rl.rlim_max;
                        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                                o.child_nofile = 0;
                }
        }
        /* Detach before anything is set up (a signalfd keeps waking only
         * the process that created it), but report readiness or failure to
         * whoever started us through a pipe, so a failure to start is still
         * their exit status and on their terminal. */
        if (!foreground) {
                int ready[2];
                pid_t pid;
                char c;

                if (pipe2(ready, O_CLOEXEC) < 0) {
                        log_error_errno(-errno, "pipe: %m");
                        return 1;
                }
                pid = fork();
                if (pid < 0) {
                        log_error_errno(-errno, "fork: %m");
                        return 1;
                }
                if (pid > 0) {
                        close(ready[1]);
                        _exit(read(ready[0], &c, 1) == 1 && c == 'R' ? 0 : 1);
                }
                close(ready[0]);
                (void) setsid();
                notify_fd = ready[1];
        }

        r = broker_new(&o, &b, &error);
        if (r < 0) {
                if (error)
                        log_error("%s", error);
                else
                        log_error_errno(r, "Failed to start: %m");
                return 1;
        }
        if (notify_fd >= 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDIN_FILENO);
                        dup2(null, STDOUT_FILENO);
                        if (!getenv("JOURNAL_STREAM"))
                                dup2(null, STDERR_FILENO);
                        close(null);
                }
                (void) !write(notify_fd, "R", 1);
                close(notify_fd);
                /* Detached and started: from now on we log to syslog (under
                 * systemd, JOURNAL_STREAM says stderr is the journal). */
                if (!getenv("JOURNAL_STREAM"))
                        log_set_target(LOG_TARGET_SYSLOG);
        }
        log_info("Listening in %s", o.state_dir ?: "/run/shuttle");
        /* Ready: control.sock listens, every re-adopted container's
         * broker.sock too, and the groups' policies are restored, so a
         * client started after us (After=shuttled.service) finds it all. */
        broker_notify(b, "READY=1");
        r = broker_run(b);
        broker_notify(b, "STOPPING=1");
        broker_free(b);
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return 1;
        }
        log_info("Stopped");
        return 0;
}
