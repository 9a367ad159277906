/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/time-util.h"
#include "runtime/bridge.h"
#include "runtime/container.h"
#include "runtime/exec.h"
#include "runtime/state-info.h"
#include "shuttle/host/broker-client.h"
#include "shuttle/host/control.h"
#include "shuttle/supervisor/group-run.h"
#include "shuttle/host/locate.h"
#include "shuttle/supervisor/logline.h"
#include "shuttle/host/nsconnect.h"

#define READY_POLL_USEC UINT64_C(100000)
#define BACKOFF_MAX_USEC UINT64_C(30000000)

typedef struct Member {
        const GroupContainer *gc;
        pid_t runner;       /* 0: not running */
        int out_fd;         /* the runner's stdout+stderr */
        int status_fd;      /* "P <init pid>" when created, "S" when its command runs,
                             * "K" when asked to stop */
        int log_fd;
        bool log_at_line_start;   /* the next byte logged starts a line */
        pid_t init_pid;
        int init_pidfd;
        bool started;       /* its command runs (state.json says so: ps shows "running") */
        bool ready;
        bool stop_requested;
        bool done;          /* ended for good */
        int exit_status;
        unsigned restarts;
        uint64_t backoff_usec;
        uint64_t restart_at;  /* CLOCK_MONOTONIC µs; 0 = none pending */
        uint64_t ready_deadline;
        uint64_t next_ready_check;
        pid_t ready_pid;          /* a `ready: command` check running */
        int ready_status;
        bool ready_status_valid;
        char line[4096];
        size_t line_len;
} Member;

typedef struct Supervisor {
        const Group *g;
        const char *state_dir;
        uint64_t stop_timeout;
        Member *m;
        size_t n;
        struct pollfd *pfd;  /* 1 + 2n: signals, each member's output and status */
        Member **pwho;
        int width;          /* of the name column */
        bool foreground;    /* print prefixed output on stdout */
        bool stopping;
        bool bridged;
        BridgeInfo bridge;
        int bridge_lock;
        int sigfd;
        int lock_fd;
        char dir[PATH_MAX];
        char policy_file[PATH_MAX + 16];
        bool policy_loaded;
        bool no_shim;
} Supervisor;

_printf_(2, 3) static void say(Supervisor *s, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "shuttlectl: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

/* ---- output ----------------------------------------------------------- */

static void emit_line(Supervisor *s, Member *m, const char *line, size_t len) {
        if (s->foreground) {
                printf("%-*s | %.*s\n", s->width, m->gc->name, (int) len, line);
                fflush(stdout);
        }
}

static void pump_output(Supervisor *s, Member *m) {
        char buf[8192];
        ssize_t n = read(m->out_fd, buf, sizeof(buf));

        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                        if (m->line_len > 0)
                                emit_line(s, m, m->line, m->line_len);
                        m->line_len = 0;
                        m->out_fd = safe_close(m->out_fd);
                }
                return;
        }
        if (m->log_fd >= 0)
                (void) logline_append(m->log_fd, buf, (size_t) n, &m->log_at_line_start);
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '\n' || m->line_len == sizeof(m->line)) {
                        emit_line(s, m, m->line, m->line_len);
                        m->line_len = 0;
                        if (buf[i] == '\n')
                                continue;
                }
                m->line[m->line_len++] = buf[i];
        }
}

static void read_status(Supervisor *s, Member *m) {
        char buf[128];
        ssize_t n = read(m->status_fd, buf, sizeof(buf) - 1);

        if (n <= 0) {
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                        m->status_fd = safe_close(m->status_fd);
                return;
        }
        buf[n] = '\0';
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
                if (line[0] == 'P') {
                        m->init_pid = (pid_t) atoi(line + 2);
                        safe_close(m->init_pidfd);
                        m->init_pidfd = pidfd_open(m->init_pid, 0);
                } else if (line[0] == 'S')
                        m->started = true;
                else if (line[0] == 'K')
                        m->stop_requested = true;
        }
}

/* ---- the runner: one container ---------------------------------------- */

typedef struct RunnerCtx {
        Supervisor *s;
        Member *m;
        int status_w;
        bool registered;
} RunnerCtx;

static int runner_created(const ContainerConfig *c, pid_t pid, void *userdata) {
        RunnerCtx *x = userdata;
        _cleanup_free_ char *error = NULL;
        char msg[32];
        int r;

        r = broker_register_container(x->s->state_dir, c, pid, x->m->restarts, &error);
        if (r < 0) {
                fprintf(stderr, "the broker refused container '%s': %s\n", c->name, error ?: strerror(-r));
                return r;
        }
        x->registered = true;
        if (c->net == NET_BRIDGE) {
                char addr[BRIDGE_ADDR_MAX];
                r = bridge_attach(&x->s->bridge, c->name, pid, addr);
                if (r < 0) {
                        fprintf(stderr, "attaching '%s' to the group's bridge: %s\n", c->name, strerror(-r));
                        return r;
                }
        }
        snprintf(msg, sizeof(msg), "P %d\n", (int) pid);
        (void) !write(x->status_w, msg, strlen(msg));
        return 0;
}

static void runner_started(const ContainerConfig *c, void *userdata) {
        RunnerCtx *x = userdata;

        (void) c;
        (void) !write(x->status_w, "S\n", 2);
}

static void runner_finished(const ContainerConfig *c, void *userdata) {
        RunnerCtx *x = userdata;
        char path[PATH_MAX];

        /* `shuttlectl stop NAME` leaves this mark: the exit was asked for,
         * the restart policy does not apply. */
        snprintf(path, sizeof(path), "%s/containers/%s/stopping", x->s->state_dir, c->name);
        if (access(path, F_OK) == 0) {
                (void) !write(x->status_w, "K\n", 2);
                (void) unlink(path);
        }
        if (c->net == NET_BRIDGE)
                (void) bridge_detach(x->s->state_dir, x->s->g->name, c->name);
        if (x->registered)
                (void) broker_unregister_container(x->s->state_dir, c->name);
}

_Noreturn static void runner_main(Supervisor *s, Member *m, int out_w, int status_w) {
        ContainerConfig c = m->gc->config;
        RunnerCtx x = { .s = s, .m = m, .status_w = status_w };
        ContainerResult res = {};
        char dir[PATH_MAX];
        sigset_t none;
        int null, r;

        /* The supervisor's end takes the container with it. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
            dup2(out_w, STDERR_FILENO) < 0)
                _exit(125);
        setvbuf(stderr, NULL, _IOLBF, 0);
        log_set_program(m->gc->name);

        c.state_dir = (char *) s->state_dir;
        if (control_container_dir_create(s->state_dir, c.name, dir, sizeof(dir)) < 0)
                _exit(125);
        c.shuttle_dir = dir;
        /* The shim, as for `shuttlectl run` (see cmd-run.c): the host
         * rootfs only, whose libc it was built against; not where the
         * group file says 'shim: false' (nor with --no-shim). */
        if (!s->no_shim && !m->gc->no_shim && !c.rootfs)
                (void) shim_locate(&c.shim_path);
        (void) init_locate(&c.init_path);
        (void) invoke_helper_locate(&c.invoke_path);
        (void) name_helper_locate(&c.name_path);
        (void) transfer_helper_locate(&c.transfer_path);
        c.hooks = (ContainerHooks){ .created = runner_created, .started = runner_started, .finished = runner_finished, .userdata = &x };

        r = container_run(&c, &res);
        (void) rmdir(dir);
        if (r < 0) {
                fprintf(stderr, "%s\n", res.message[0] ? res.message : strerror(-r));
                _exit(125);
        }
        if (res.message[0])
                fprintf(stderr, "%s\n", res.message);
        _exit(res.exit_status);
}

static int member_start(Supervisor *s, Member *m) {
        int out[2], st[2];
        pid_t pid;

        if (pipe2(out, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(st, O_CLOEXEC) < 0) {
                close(out[0]);
                close(out[1]);
                return -errno;
        }
        /* A fresh log for each run of the group (restarts within the run
         * append to it). */
        if (m->log_fd < 0) {
                m->log_fd = logline_open(s->state_dir, m->gc->name);
                m->log_at_line_start = true;
        }
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(out[0]);
                close(out[1]);
                close(st[0]);
                close(st[1]);
                return r;
        }
        if (pid == 0) {
                close(out[0]);
                close(st[0]);
                runner_main(s, m, out[1], st[1]);
        }
        close(out[1]);
        close(st[1]);
        (void) fcntl(out[0], F_SETFL, O_NONBLOCK);
        (void) fcntl(st[0], F_SETFL, O_NONBLOCK);
        m->runner = pid;
        m->out_fd = out[0];
        m->status_fd = st[0];
        m->init_pid = 0;
        m->init_pidfd = safe_close(m->init_pidfd);
        m->started = false;
        m->ready = false;
        m->stop_requested = false;
        m->ready_deadline = clock_usec(CLOCK_MONOTONIC) + (m->gc->ready.kind != GROUP_READY_NONE ? m->gc->ready.timeout_usec : 0);
        m->next_ready_check = 0;
        return 0;
}

/* ---- readiness -------------------------------------------------------- */

static pid_t ready_command_start(Supervisor *s, Member *m) {
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid != 0)
                return pid < 0 ? 0 : pid;
        {
                StateInfo info = {};
                ExecConfig ec = { .argv = m->gc->ready.command };
                ExecResult res = {};
                sigset_t none;
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (null >= 0) {
                        dup2(null, STDIN_FILENO);
                        dup2(null, STDOUT_FILENO);
                        dup2(null, STDERR_FILENO);
                }
                if (state_info_load(s->state_dir, m->gc->name, &info) < 0 ||
                    container_exec(&info, s->state_dir, &ec, &res) < 0)
                        _exit(125);
                _exit(res.exit_status);
        }
}

static const char *ready_describe(const GroupReady *rd) {
        static char buf[PATH_MAX + 32];

        switch (rd->kind) {
        case GROUP_READY_SOCKET:
                snprintf(buf, sizeof(buf), "socket %s", rd->socket);
                break;
        case GROUP_READY_TCP:
                snprintf(buf, sizeof(buf), "tcp port %u", (unsigned) rd->port);
                break;
        case GROUP_READY_COMMAND:
                snprintf(buf, sizeof(buf), "command %s", rd->command[0]);
                break;
        default:
                snprintf(buf, sizeof(buf), "started");
        }
        return buf;
}

static bool check_ready(Supervisor *s, Member *m) {
        const GroupReady *rd = &m->gc->ready;
        int fd = -1, r = -EAGAIN;

        if (m->init_pid <= 0 || m->init_pidfd < 0)
                return false;
        switch (rd->kind) {
        case GROUP_READY_NONE:
                return true;
        case GROUP_READY_SOCKET:
                r = ns_connect_unix(m->init_pid, m->init_pidfd, rd->socket, &fd);
                break;
        case GROUP_READY_TCP:
                r = ns_connect_tcp(m->init_pid, m->init_pidfd, rd->port, &fd);
                break;
        case GROUP_READY_COMMAND:
                /* Run inside the container by a child of ours; its status
                 * arrives through reap(). */
                if (m->ready_pid > 0)
                        return false;
                if (m->ready_status_valid) {
                        m->ready_status_valid = false;
                        if (m->ready_status == 0)
                                return true;
                }
                m->ready_pid = ready_command_start(s, m);
                return false;
        }
        safe_close(fd);
        return r >= 0;
}

/* ---- the loop --------------------------------------------------------- */

static void reap(Supervisor *s) {
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        return;
                for (size_t i = 0; i < s->n; i++) {
                        Member *m = &s->m[i];
                        const GroupContainer *gc = m->gc;
                        bool again;

                        if (m->ready_pid == pid) {
                                m->ready_pid = 0;
                                m->ready_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                                m->ready_status_valid = true;
                                continue;
                        }
                        if (m->runner != pid)
                                continue;
                        m->runner = 0;
                        /* Take what is left of its output and status. */
                        while (m->out_fd >= 0)
                                pump_output(s, m);
                        while (m->status_fd >= 0)
                                read_status(s, m);
                        m->init_pidfd = safe_close(m->init_pidfd);
                        m->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                        again = !s->stopping && !m->stop_requested &&
                                (gc->restart == GROUP_RESTART_ALWAYS ||
                                 (gc->restart == GROUP_RESTART_ON_FAILURE && m->exit_status != 0)) &&
                                (gc->restart_max == 0 || m->restarts < gc->restart_max);
                        if (again) {
                                if (m->backoff_usec == 0)
                                        m->backoff_usec = gc->restart_backoff_usec;
                                say(s, "container '%s' exited with status %d; restarting in %.1fs", gc->name,
                                    m->exit_status, (double) m->backoff_usec / 1e6);
                                m->restart_at = clock_usec(CLOCK_MONOTONIC) + m->backoff_usec;
                                m->backoff_usec = MIN(m->backoff_usec * 2, BACKOFF_MAX_USEC);
                        } else {
                                if (!s->stopping)
                                        say(s, "container '%s' exited with status %d", gc->name, m->exit_status);
                                m->done = true;
                        }
                }
        }
}

static void handle_signals(Supervisor *s) {
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGCHLD)
                        reap(s);
                else if (!s->stopping) {
                        s->stopping = true;
                        say(s, "stopping group '%s'", s->g->name);
                }
        }
}

/* One turn: wait for output, status, signals or a timer (at most
 * timeout_usec), and handle what came. */
static void turn(Supervisor *s, uint64_t timeout_usec) {
        struct pollfd *p = s->pfd;
        Member **who = s->pwho;
        size_t np = 0;
        uint64_t now = clock_usec(CLOCK_MONOTONIC), wake = now + timeout_usec;

        p[np] = (struct pollfd){ .fd = s->sigfd, .events = POLLIN };
        who[np++] = NULL;
        for (size_t i = 0; i < s->n; i++) {
                Member *m = &s->m[i];
                if (m->out_fd >= 0) {
                        p[np] = (struct pollfd){ .fd = m->out_fd, .events = POLLIN };
                        who[np++] = m;
                }
                if (m->status_fd >= 0) {
                        p[np] = (struct pollfd){ .fd = m->status_fd, .events = POLLIN };
                        who[np++] = m;
                }
                if (m->restart_at && m->restart_at < wake)
                        wake = m->restart_at;
        }
        if (poll(p, np, (int) ((wake > now ? wake - now : 0) / 1000) + 1) < 0 && errno != EINTR)
                return;
        for (size_t i = 1; i < np; i++)
                if (p[i].revents) {
                        if (p[i].fd == who[i]->out_fd)
                                pump_output(s, who[i]);
                        else if (p[i].fd == who[i]->status_fd)
                                read_status(s, who[i]);
                }
        if (p[0].revents)
                handle_signals(s);

        now = clock_usec(CLOCK_MONOTONIC);
        for (size_t i = 0; i < s->n && !s->stopping; i++) {
                Member *m = &s->m[i];
                if (m->restart_at && m->restart_at <= now) {
                        int r;
                        m->restart_at = 0;
                        m->restarts++;
                        r = member_start(s, m);
                        if (r < 0) {
                                say(s, "restarting '%s' failed: %s", m->gc->name, strerror(-r));
                                m->done = true;
                        }
                }
        }
}

/* Starts one container and waits until it is ready.  0, or -ETIMEDOUT /
 * -ECHILD (it ended first) / -EINTR (we were told to stop). */
static int start_and_wait(Supervisor *s, Member *m) {
        int r = member_start(s, m);

        if (r < 0) {
                say(s, "starting container '%s': %s", m->gc->name, strerror(-r));
                return r;
        }
        for (;;) {
                uint64_t now = clock_usec(CLOCK_MONOTONIC);

                if (s->stopping)
                        return -EINTR;
                /* Without a ready condition, started is ready: its command
                 * runs (so `ps` already says "running" when the group is
                 * said to be up), or it has already ended (its restart
                 * policy takes it from here). */
                if (m->gc->ready.kind == GROUP_READY_NONE && m->init_pid > 0 && (m->started || !m->runner)) {
                        m->ready = true;
                        return 0;
                }
                if (!m->runner && !m->restart_at) {
                        say(s, "container '%s' exited (status %d) before it was ready", m->gc->name,
                            m->exit_status);
                        return -ECHILD;
                }
                if (m->runner && now >= m->next_ready_check) {
                        m->next_ready_check = now + READY_POLL_USEC;
                        if (check_ready(s, m)) {
                                m->ready = true;
                                return 0;
                        }
                }
                if (m->runner && m->gc->ready.kind != GROUP_READY_NONE && now >= m->ready_deadline) {
                        say(s, "container '%s' was not ready within %.1fs (%s)", m->gc->name,
                            (double) m->gc->ready.timeout_usec / 1e6, ready_describe(&m->gc->ready));
                        return -ETIMEDOUT;
                }
                turn(s, READY_POLL_USEC);
        }
}

static bool any_running(Supervisor *s) {
        for (size_t i = 0; i < s->n; i++)
                if (s->m[i].runner || s->m[i].restart_at)
                        return true;
        return false;
}

/* Reverse start order: SIGTERM (the runner forwards it to the init, which
 * forwards it to the command), the grace period, then SIGKILL. */
static void stop_all(Supervisor *s) {
        s->stopping = true;
        for (size_t k = s->n; k-- > 0;) {
                Member *m = &s->m[s->g->start_order[k]];
                uint64_t deadline;

                m->restart_at = 0;
                if (!m->runner)
                        continue;
                (void) kill(m->runner, SIGTERM);
                deadline = clock_usec(CLOCK_MONOTONIC) + s->stop_timeout;
                while (m->runner && clock_usec(CLOCK_MONOTONIC) < deadline)
                        turn(s, 100000);
                if (m->runner) {
                        say(s, "container '%s' did not stop within %.0fs: killing it", m->gc->name,
                            (double) s->stop_timeout / 1e6);
                        (void) kill(m->runner, SIGKILL);
                        while (m->runner)
                                turn(s, 100000);
                }
        }
}

/* ---- setup and teardown ------------------------------------------------ */

static int write_supervisor_json(Supervisor *s) {
        char path[PATH_MAX + 32], tmp[PATH_MAX + 48];
        json_t *names = json_array(), *o;
        int r;

        for (size_t k = 0; names && k < s->n; k++)
                json_array_append_new(names, json_string(s->g->containers[s->g->start_order[k]].name));
        /* The group file by its absolute name: a policy reload (in the
         * broker, whose working directory is not ours) reads it again. */
        o = json_pack("{s:s, s:i, s:o*, s:s}", "group", s->g->name, "pid", (int) getpid(), "containers", names,
                      "file", s->g->file_abs);
        if (!o)
                return -ENOMEM;
        snprintf(path, sizeof(path), "%s/supervisor.json", s->dir);
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        r = json_dump_file(o, tmp, JSON_COMPACT);
        json_decref(o);
        if (r < 0)
                return -EIO;
        return rename(tmp, path) < 0 ? -errno : 0;
}

static void cleanup(Supervisor *s) {
        char path[PATH_MAX + 32];

        if (s->policy_loaded)
                (void) broker_set_group_policy(s->state_dir, s->g->name, NULL, NULL, NULL);
        if (s->bridged)
                (void) bridge_remove(s->state_dir, s->g->name);
        if (s->bridge_lock >= 0)
                bridge_unlock_group(s->state_dir, s->g->name, s->bridge_lock);
        s->bridge_lock = -1;
        for (size_t i = 0; i < s->n; i++) {
                safe_close(s->m[i].out_fd);
                safe_close(s->m[i].status_fd);
                safe_close(s->m[i].log_fd);
                safe_close(s->m[i].init_pidfd);
        }
        snprintf(path, sizeof(path), "%s/supervisor.json", s->dir);
        (void) unlink(path);
        (void) unlink(s->policy_file);
        /* The broker removes its copy of the group's shadow policy when it
         * drops the group's policy; not if it is not running. */
        snprintf(path, sizeof(path), "%s/shadow.yaml", s->dir);
        (void) unlink(path);
        snprintf(path, sizeof(path), "%s/lock", s->dir);
        (void) unlink(path);
        (void) rmdir(s->dir);
        s->lock_fd = safe_close(s->lock_fd);
        s->sigfd = safe_close(s->sigfd);
}

static int setup(Supervisor *s) {
        _cleanup_free_ char *error = NULL;
        char path[PATH_MAX + 32];
        FILE *f;
        int r;

        /* Made closed before anything is made in it (see control.h). */
        r = control_state_dir_create(s->state_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot create '%s': %m", s->state_dir);
        snprintf(path, sizeof(path), "%s/logs", s->state_dir);
        r = mkdir_p_at(AT_FDCWD, path, 0750);
        if (r < 0)
                return log_error_errno(r, "Cannot create '%s': %m", path);
        snprintf(s->dir, sizeof(s->dir), "%s/groups/%s", s->state_dir, s->g->name);
        r = mkdir_p_at(AT_FDCWD, s->dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create '%s': %m", s->dir);
        snprintf(path, sizeof(path), "%s/lock", s->dir);
        s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->lock_fd < 0)
                return log_error_errno(-errno, "Cannot open '%s': %m", path);
        if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
                s->lock_fd = safe_close(s->lock_fd);
                log_error("group '%s' is already running (see 'shuttlectl ps')", s->g->name);
                return -EEXIST;
        }
        r = write_supervisor_json(s);
        if (r < 0)
                return log_error_errno(r, "Cannot write %s/supervisor.json: %m", s->dir);

        /* The group's policy, as the broker will load it (and load again
         * after a restart of its own).  With it goes the group file, which
         * a policy reload reads again: the group's policy is what that
         * file says then, and the broker keeps this copy up to date. */
        /* A shadow policy is one run's: what a killed supervisor's run
         * left must not be restored for this one by a restarted broker. */
        snprintf(path, sizeof(path), "%s/shadow.yaml", s->dir);
        (void) unlink(path);
        if (s->g->policy) {
                snprintf(s->policy_file, sizeof(s->policy_file), "%s/policy.yaml", s->dir);
                f = fopen(s->policy_file, "we");
                if (!f || policy_dump_yaml(s->g->policy, f) < 0 || fclose(f) != 0)
                        return log_error_errno(-EIO, "Cannot write the group's policy to %s", s->policy_file);
                r = broker_set_group_policy(s->state_dir, s->g->name, s->policy_file, s->g->file_abs, &error);
                if (r < 0) {
                        log_error("The broker did not take group '%s''s policy: %s", s->g->name,
                                  error ?: strerror(-r));
                        return r;
                }
                s->policy_loaded = true;
        }

        for (size_t i = 0; i < s->n; i++)
                if (s->g->containers[i].config.net == NET_BRIDGE) {
                        /* What a crashed group left on the network goes first. */
                        (void) bridge_cleanup_stale(s->state_dir);
                        s->bridge_lock = bridge_lock_group(s->state_dir, s->g->name);
                        if (s->bridge_lock < 0)
                                return log_error_errno(s->bridge_lock, "Cannot lock the network of group '%s': %m",
                                                       s->g->name);
                        r = bridge_ensure(s->state_dir, s->g->name, NULL, &s->bridge);
                        if (r < 0)
                                return log_error_errno(r, "Cannot set up the bridge of group '%s': %m",
                                                       s->g->name);
                        s->bridged = true;
                        break;
                }
        return 0;
}

int group_run(const Group *g, const GroupRunOptions *o) {
        Supervisor s = {
                .g = g,
                .state_dir = o->state_dir ?: "/run/shuttle",
                .stop_timeout = o->stop_timeout_usec ?: UINT64_C(10000000),
                .n = g->n_containers,
                .foreground = o->notify_fd < 0,
                .no_shim = o->no_shim,
                .sigfd = -1,
                .lock_fd = -1,
                .bridge_lock = -1,
        };
        sigset_t mask;
        int r, status = 0;

        s.m = calloc(s.n, sizeof(Member));
        s.pfd = calloc(1 + 2 * s.n, sizeof(struct pollfd));
        s.pwho = calloc(1 + 2 * s.n, sizeof(Member *));
        if (!s.m || !s.pfd || !s.pwho) {
                free(s.m);
                free(s.pfd);
                free(s.pwho);
                return log_oom(), 1;
        }
        for (size_t i = 0; i < s.n; i++) {
                s.m[i] = (Member){ .gc = &g->containers[i], .out_fd = -1, .status_fd = -1, .log_fd = -1,
                                   .init_pidfd = -1 };
                s.width = MAX(s.width, (int) strlen(g->containers[i].name));
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        s.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (s.sigfd < 0) {
                free(s.m);
                free(s.pfd);
                free(s.pwho);
                return log_error_errno(-errno, "signalfd: %m"), 1;
        }

        r = setup(&s);
        if (r < 0)
                goto fail;

        for (size_t k = 0; k < s.n; k++) {
                Member *m = &s.m[g->start_order[k]];
                r = start_and_wait(&s, m);
                if (r < 0)
                        goto fail;
                if (s.foreground)
                        say(&s, "container '%s' is up", m->gc->name);
        }
        if (o->notify_fd >= 0) {
                /* Detached: from now on our output goes to the group's log,
                 * and whoever started us may go. */
                char path[PATH_MAX + 32];
                int logfd;
                snprintf(path, sizeof(path), "%s/supervisor.log", s.dir);
                logfd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
                if (logfd >= 0) {
                        dup2(logfd, STDOUT_FILENO);
                        dup2(logfd, STDERR_FILENO);
                        close(logfd);
                }
                (void) !write(o->notify_fd, "R", 1);
                close(o->notify_fd);
        }

        while (!s.stopping && any_running(&s))
                turn(&s, 1000000);
        stop_all(&s);
        for (size_t k = 0; k < s.n; k++)
                if (s.m[g->start_order[k]].exit_status != 0 && status == 0)
                        status = s.m[g->start_order[k]].exit_status;
        cleanup(&s);
        free(s.m);
        free(s.pfd);
        free(s.pwho);
        return status;

fail:
        /* Nothing of a group that could not start is left behind. */
        stop_all(&s);
        cleanup(&s);
        free(s.m);
        free(s.pfd);
        free(s.pwho);
        return 1;
}
