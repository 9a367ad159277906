/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttle-oci exec: one more process in a running container, through the
 * runtime library's container_exec_spawn() (as `shuttlectl exec` and the
 * broker's invocations), with the process of --process F.json or of the
 * command line, and the container's seccomp profile. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/oci.h"
#include "common/fdpass.h"
#include "common/fileio.h"
#include "common/socket-util.h"
#include "runtime/exec.h"
#include "runtime/oci-spec.h"
#include "runtime/state-info.h"

typedef struct ExecOptions {
        const char *process;
        const char *pid_file;
        bool detach;
        const char *cwd;
        char **env; /* from -e, NULL-terminated */
        size_t n_env;
        const char *user;
        const char *console_socket;
        bool tty;
        const char *id;
        char **argv; /* runc style: ID CMD ARGS... */
} ExecOptions;

static void exec_help(void) {
        printf("Usage: shuttle-oci exec [OPTIONS] ID [COMMAND [ARG...]]\n\n"
               "Run one more process in a running container: the one of --process, or\n"
               "COMMAND with the container's own process settings.\n\n"
               "Options:\n"
               "  -p, --process FILE     the process (runtime-spec JSON, as config.json's)\n"
               "  -d, --detach           do not wait for it (the caller becomes its parent)\n"
               "      --pid-file FILE    write its pid there\n"
               "      --cwd DIR          its working directory (with COMMAND)\n"
               "  -e, --env K=V          set a variable (with COMMAND)\n"
               "  -u, --user UID[:GID]   its user (with COMMAND)\n"
               "  -t, --tty              give it a terminal (with COMMAND; --process has\n"
               "                         process.terminal)\n"
               "      --console-socket S send the terminal's master to the unix socket S\n"
               "  -h, --help             show this help\n");
}

static int parse_exec(int argc, char **argv, ExecOptions *o) {
        enum { OPT_PID_FILE = 0x100, OPT_CWD, OPT_CONSOLE, OPT_TTY };
        static const struct option opts[] = {
                { "process", required_argument, NULL, 'p' },
                { "detach", no_argument, NULL, 'd' },
                { "pid-file", required_argument, NULL, OPT_PID_FILE },
                { "cwd", required_argument, NULL, OPT_CWD },
                { "env", required_argument, NULL, 'e' },
                { "user", required_argument, NULL, 'u' },
                { "console-socket", required_argument, NULL, OPT_CONSOLE },
                { "tty", no_argument, NULL, 't' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        optind = 1;
        /* "+": options end at the ID; what follows is the command's. */
        while ((c = getopt_long(argc, argv, "+p:de:u:th", opts, NULL)) >= 0)
                switch (c) {
                case 'p':
                        o->process = optarg;
                        break;
                case 'd':
                        o->detach = true;
                        break;
                case OPT_PID_FILE:
                        o->pid_file = optarg;
                        break;
                case OPT_CWD:
                        o->cwd = optarg;
                        break;
                case 'e': {
                        char **a = reallocarray(o->env, o->n_env + 2, sizeof(char *));
                        if (!a)
                                return -ENOMEM;
                        o->env = a;
                        o->env[o->n_env++] = optarg;
                        o->env[o->n_env] = NULL;
                        break;
                }
                case 'u':
                        o->user = optarg;
                        break;
                case OPT_CONSOLE:
                        o->console_socket = optarg;
                        break;
                case 't':
                        o->tty = true;
                        break;
                case 'h':
                        exec_help();
                        return 1;
                default:
                        fprintf(stderr, "shuttle-oci: exec: see 'shuttle-oci exec --help'\n");
                        return -EINVAL;
                }
        if (optind >= argc) {
                fprintf(stderr, "shuttle-oci: exec: expected a container ID (see 'shuttle-oci exec --help')\n");
                return -EINVAL;
        }
        o->id = argv[optind];
        o->argv = argv + optind + 1;
        if (!o->process && !o->argv[0]) {
                fprintf(stderr, "shuttle-oci: exec: expected --process FILE or a command\n");
                return -EINVAL;
        }
        if (o->process && o->argv[0]) {
                fprintf(stderr, "shuttle-oci: exec: --process and a command exclude each other\n");
                return -EINVAL;
        }
        return 0;
}

/* The process to run: --process F.json, or the container's own process
 * (config.json's) with COMMAND and the command line's changes. */
static int load_process(const char *verb, const ExecOptions *o, const OciSpec *spec, OciProcess *ret) {
        char err[512] = "";
        int r;

        if (o->process) {
                _cleanup_free_ char *text = NULL;
                size_t size;

                r = read_file_at(AT_FDCWD, o->process, 1 << 20, &text, &size);
                if (r < 0)
                        return oci_error(verb, o->id, "--process '%s': %s", o->process, strerror(-r));
                r = oci_process_parse(text, size, ret, err, sizeof(err));
                if (r < 0)
                        return oci_error(verb, o->id, "--process '%s': %s", o->process, err[0] ? err : strerror(-r));
                return 0;
        }
        {
                /* config.json's process with COMMAND as its args: the
                 * strings stay the spec's and the command line's. */
                size_t n = 0;

                *ret = spec->process;
                for (char **a = o->argv; *a; a++)
                        n++;
                ret->args = calloc(n + 1, sizeof(char *));
                if (!ret->args)
                        return oci_error(verb, o->id, "out of memory");
                for (size_t i = 0; i < n; i++)
                        ret->args[i] = o->argv[i];
        }
        return 0;
}

/* The seccomp agent of the bundle's profile gets the exec'd process's
 * notify fd, as create's did for the container's process, with the
 * container's state (running) and this process's pid. */
typedef struct AgentDelivery {
        const OciSeccomp *seccomp;
        const OciState *st;
        char err[512];
} AgentDelivery;

static int deliver_listener(int fd, pid_t pid, void *userdata) {
        AgentDelivery *d = userdata;

        return oci_seccomp_agent_deliver(d->seccomp, d->st, OCI_STATUS_RUNNING, pid, fd, d->err, sizeof(d->err));
}

int oci_exec(int argc, char **argv) {
        ExecOptions o = {};
        OciState st = {};
        OciSpec *spec = NULL;
        OciProcess proc = {};
        bool own_proc = false;
        StateInfo info = {};
        ExecConfig ec = {};
        SeccompProgram *seccomp = NULL;
        AgentDelivery agent = {};
        _cleanup_close_ int pidfd = -1, cmd_pidfd = -1, console = -1, master = -1;
        struct winsize ws = {};
        bool tty;
        const int stdio[3] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
        char err[512] = "", msg[512] = "";
        char **env = NULL;
        size_t n_env = 0;
        uint64_t t;
        bool zombie;
        pid_t cmd = 0;
        int r, ret = EXIT_FAILURE;

        r = parse_exec(argc, argv, &o);
        if (r != 0) {
                free(o.env);
                return r > 0 ? 0 : EXIT_FAILURE;
        }
        if (!oci_id_is_valid(o.id)) {
                free(o.env);
                return oci_error("exec", o.id, "not a valid container ID");
        }
        r = oci_state_read(o.id, &st);
        if (r < 0) {
                free(o.env);
                return oci_error("exec", o.id, "%s", r == -ENOENT ? "container does not exist" : strerror(-r));
        }
        if (oci_state_status(&st) != OCI_STATUS_RUNNING) {
                oci_error("exec", o.id, "the container is %s, not running", oci_status_name(oci_state_status(&st)));
                goto out;
        }
        r = oci_spec_load(st.bundle, &spec, err, sizeof(err));
        if (r < 0) {
                oci_error("exec", o.id, "%s", err[0] ? err : strerror(-r));
                goto out;
        }
        if (load_process("exec", &o, spec, &proc) != 0)
                goto out;
        /* --process: ours to free; else the spec's, with our args. */
        own_proc = o.process != NULL;

        /* A terminal: --process's process.terminal, or --tty with a
         * command (the spec's own terminal is the container's process's,
         * not this one's).  Its master goes to --console-socket, as
         * create's does; without one there is nobody to hand it to. */
        tty = o.process ? proc.terminal || o.tty : o.tty;
        if (tty && !o.console_socket) {
                oci_error("exec", o.id, "%s: --console-socket is needed",
                          o.process ? "process.terminal is true" : "--tty");
                goto out;
        }
        if (!tty && o.console_socket) {
                oci_error("exec", o.id, "--console-socket given without a terminal (--tty or process.terminal)");
                goto out;
        }
        if (o.console_socket) {
                r = unix_connect(o.console_socket, SOCK_STREAM, &console);
                if (r < 0) {
                        oci_error("exec", o.id, "--console-socket '%s': %s", o.console_socket, strerror(-r));
                        goto out;
                }
        }
        if (tty && o.process && (proc.console_height > 0 || proc.console_width > 0))
                ws = (struct winsize){ .ws_row = (unsigned short) proc.console_height,
                                       .ws_col = (unsigned short) proc.console_width };

        /* The environment: the process's, then -e. */
        for (char **e = proc.env; e && *e; e++)
                n_env++;
        env = calloc(n_env + o.n_env + 1, sizeof(char *));
        if (!env) {
                oci_error("exec", o.id, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < n_env; i++)
                env[i] = proc.env[i];
        for (size_t i = 0; i < o.n_env; i++)
                env[n_env + i] = o.env[i];

        if (spec->has_seccomp) {
                r = oci_seccomp_program(&spec->seccomp, &seccomp, err, sizeof(err));
                if (r < 0) {
                        oci_error("exec", o.id, "%s/config.json: %s", st.bundle, err[0] ? err : strerror(-r));
                        goto out;
                }
        }

        /* Its pid 1, checked to be the process create made. */
        pidfd = (int) syscall(SYS_pidfd_open, st.pid, 0);
        if (pidfd < 0 || oci_proc_start_time(st.pid, &t, &zombie) < 0 || zombie || t != st.start_time) {
                oci_error("exec", o.id, "the container is not running");
                goto out;
        }

        info = (StateInfo){
                .name = (char *) o.id,
                .init_pid = st.pid,
                .cgroups = st.cgroups,
                .caps = proc.has_caps ? proc.caps.bounding & proc.caps.permitted : 0,
                .workdir = o.cwd ? (char *) o.cwd : proc.cwd,
                .has_user = true,
                .uid = proc.uid,
                .gid = proc.gid,
                .alive = true,
        };
        if (proc.n_rlimits > 0) {
                info.rlimits = calloc(proc.n_rlimits, sizeof(RlimitSpec));
                if (!info.rlimits) {
                        oci_error("exec", o.id, "out of memory");
                        goto out;
                }
                for (size_t i = 0; i < proc.n_rlimits; i++)
                        info.rlimits[i] = (RlimitSpec){ .resource = proc.rlimits[i].resource,
                                                        .limit = { .rlim_cur = (rlim_t) proc.rlimits[i].soft,
                                                                   .rlim_max = (rlim_t) proc.rlimits[i].hard } };
                info.n_rlimits = proc.n_rlimits;
        }
        ec = (ExecConfig){
                .argv = proc.args,
                .env = env,
                .n_env = n_env + o.n_env,
                .env_exact = true,
                .has_init_pidfd = true,
                .init_pidfd = pidfd,
                .seccomp = seccomp,
                .tty = tty,
                .winsize = ws.ws_row > 0 || ws.ws_col > 0 ? &ws : NULL,
        };
        if (spec->has_seccomp) {
                agent = (AgentDelivery){ .seccomp = &spec->seccomp, .st = &st };
                ec.seccomp_listener = deliver_listener;
                ec.seccomp_listener_userdata = &agent;
        }
        if (o.user) {
                unsigned u, g = 0;
                char extra;
                int k = sscanf(o.user, "%u:%u%c", &u, &g, &extra);
                if (k != 1 && k != 2) {
                        oci_error("exec", o.id, "--user '%s': expected UID[:GID]", o.user);
                        goto out;
                }
                ec.has_user = true;
                ec.uid = u;
                ec.gid = k == 2 ? g : 0;
        }

        if (tty)
                r = container_exec_spawn_tty(&info, NULL, &ec, &cmd, &cmd_pidfd, &master, msg, sizeof(msg));
        else
                r = container_exec_spawn(&info, NULL, &ec, stdio, &cmd, &cmd_pidfd, msg, sizeof(msg));
        if (r < 0) {
                oci_error("exec", o.id, "%s", agent.err[0] ? agent.err : msg[0] ? msg : strerror(-r));
                goto out;
        }
        if (tty) {
                ssize_t n = fd_send(console, "/dev/ptmx", 9, &master, 1);

                master = safe_close(master);
                if (n < 0) {
                        (void) pidfd_send_signal(cmd_pidfd, SIGKILL, NULL, 0);
                        {
                                siginfo_t si = {};
                                (void) waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED);
                        }
                        oci_error("exec", o.id, "--console-socket '%s': passing the terminal: %s", o.console_socket,
                                  strerror((int) -n));
                        goto out;
                }
                console = safe_close(console);
        }
        if (o.pid_file) {
                r = oci_write_pid_file(o.pid_file, cmd);
                if (r < 0) {
                        (void) pidfd_send_signal(cmd_pidfd, SIGKILL, NULL, 0);
                        oci_error("exec", o.id, "--pid-file '%s': %s", o.pid_file, strerror(-r));
                        goto out;
                }
        }
        if (o.detach)
                /* Our child; once we exit, the caller's (a subreaper). */
                ret = 0;
        else {
                siginfo_t si = {};
                if (waitid(P_PIDFD, (id_t) cmd_pidfd, &si, WEXITED) < 0)
                        ret = oci_error("exec", o.id, "waiting: %m");
                else if (si.si_code == CLD_EXITED)
                        ret = si.si_status;
                else
                        ret = 128 + si.si_status;
        }
out:
        free(info.rlimits);
        free(env);
        if (own_proc)
                oci_process_done(&proc);
        else
                free(proc.args);
        seccomp_program_free(seccomp);
        oci_spec_free(spec);
        oci_state_done(&st);
        free(o.env);
        return ret;
}
