/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Escape attempts a container makes against what of ours lives in it
 * (tests/integration/escape.sh).
 *
 *   escapecall inject PID SCRIPT     ptrace PID (the container's init) and
 *                                    make it execve SCRIPT: x86_64 only
 *                                    (exit 77 elsewhere)
 *   escapecall handle PATH           print PATH's file handle (on the host)
 *   escapecall openhandle DIR HANDLE open_by_handle_at() through DIR's mount
 *                                    and print the file's first line
 *   escapecall mount DIR             mount a tmpfs on DIR
 *   escapecall fds DEV:INO...        list every descriptor of every other
 *                                    process that refers to one of these
 *                                    files or to a terminal of another
 *                                    devpts than /dev/pts; try TIOCSCTTY on it
 *   escapecall onpty CMD [ARG...]    run CMD with a new pty as its stdio that
 *                                    no session owns (not its controlling
 *                                    terminal), copying its output to ours
 *
 * Each prints one line saying what happened; exit 0 when the attempt
 * worked, 1 when it was refused. */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#define PTRACE_INTERRUPT 0x4207
#endif

static int inject(pid_t pid, const char *script) {
#if defined(__x86_64__)
        struct user_regs_struct regs;
        unsigned long word, text, at;
        char buf[512];
        size_t len, off;
        int status;

        if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0) {
                printf("attach refused: %s\n", strerror(errno));
                return 1;
        }
        if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0 || waitpid(pid, &status, __WALL) < 0) {
                printf("interrupt failed: %s\n", strerror(errno));
                return 1;
        }
        if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0) {
                printf("getregs failed: %s\n", strerror(errno));
                return 1;
        }
        /* It waits in a system call: the two bytes before rip are the
         * `syscall` instruction (0f 05), which we make it run again. */
        errno = 0;
        text = (unsigned long) ptrace(PTRACE_PEEKTEXT, pid, regs.rip - 2, 0);
        if (errno != 0 || (text & 0xffff) != 0x050f) {
                printf("not stopped after a syscall instruction (rip %llx)\n", regs.rip);
                return 1;
        }
        /* Below the red zone: SCRIPT, then argv = { SCRIPT, NULL }. */
        len = strlen(script) + 1;
        if (len > 256)
                return 1;
        memset(buf, 0, sizeof(buf));
        at = (regs.rsp - 4096) & ~15UL;
        memcpy(buf, script, len);
        off = (len + 15) & ~15UL;
        memcpy(buf + off, &at, sizeof(at));
        for (size_t i = 0; i < off + 16; i += sizeof(word)) {
                memcpy(&word, buf + i, sizeof(word));
                if (ptrace(PTRACE_POKEDATA, pid, at + i, word) < 0) {
                        printf("poke failed: %s\n", strerror(errno));
                        return 1;
                }
        }
        regs.rip -= 2;
        regs.rax = SYS_execve;
        regs.rdi = at;
        regs.rsi = at + off;
        regs.rdx = 0;
        regs.orig_rax = (unsigned long long) -1; /* no syscall restart */
        if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0 || ptrace(PTRACE_DETACH, pid, 0, 0) < 0) {
                printf("setregs failed: %s\n", strerror(errno));
                return 1;
        }
        printf("injected\n");
        return 0;
#else
        (void) pid;
        (void) script;
        printf("inject: x86_64 only\n");
        return 77;
#endif
}

static int handle(const char *path) {
        struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
        int mnt;

        h->handle_bytes = MAX_HANDLE_SZ;
        if (name_to_handle_at(AT_FDCWD, path, h, &mnt, 0) < 0) {
                printf("name_to_handle_at: %s\n", strerror(errno));
                return 1;
        }
        printf("%d:", h->handle_type);
        for (unsigned i = 0; i < h->handle_bytes; i++)
                printf("%02x", h->f_handle[i]);
        printf("\n");
        return 0;
}

static int openhandle(const char *dir, const char *spec) {
        struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);
        const char *hex = strchr(spec, ':');
        char line[256] = "";
        int mfd, fd;
        FILE *f;

        if (!hex)
                return 2;
        h->handle_type = atoi(spec);
        h->handle_bytes = 0;
        for (hex++; hex[0] && hex[1] && h->handle_bytes < MAX_HANDLE_SZ; hex += 2) {
                unsigned v;
                sscanf(hex, "%2x", &v);
                h->f_handle[h->handle_bytes++] = (unsigned char) v;
        }
        mfd = open(dir, O_RDONLY | O_DIRECTORY);
        if (mfd < 0)
                return 2;
        fd = open_by_handle_at(mfd, h, O_RDONLY);
        if (fd < 0) {
                printf("open_by_handle_at: %s\n", strerror(errno));
                return 1;
        }
        f = fdopen(fd, "r");
        if (!f || !fgets(line, sizeof(line), f))
                printf("opened, unreadable\n");
        else
                printf("read: %s", line);
        return 0;
}

static int do_mount(const char *dir) {
        if (mount("none", dir, "tmpfs", 0, NULL) < 0) {
                printf("mount: %s\n", strerror(errno));
                return 1;
        }
        printf("mounted\n");
        return 0;
}

static int is_pty(const struct stat *st) {
        unsigned maj = major(st->st_rdev);
        return S_ISCHR(st->st_mode) && maj >= 136 && maj <= 143;
}

static int fds(int argc, char **argv) {
        struct stat ours;
        DIR *proc = opendir("/proc");
        struct dirent *p;
        int found = 0;

        if (!proc || stat("/dev/pts/ptmx", &ours) < 0)
                return 2;
        while ((p = readdir(proc))) {
                char path[300];
                DIR *d;
                struct dirent *e;
                pid_t pid = atoi(p->d_name);

                if (pid <= 0 || pid == getpid())
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/fd", pid);
                d = opendir(path);
                if (!d)
                        continue;
                while ((e = readdir(d))) {
                        char fdpath[600];
                        struct stat st;
                        int hit = 0;

                        if (e->d_name[0] == '.')
                                continue;
                        snprintf(fdpath, sizeof(fdpath), "%s/%s", path, e->d_name);
                        if (stat(fdpath, &st) < 0)
                                continue;
                        for (int i = 0; i < argc; i++) {
                                char want[64];
                                snprintf(want, sizeof(want), "%ju:%ju", (uintmax_t) st.st_dev,
                                         (uintmax_t) st.st_ino);
                                if (strcmp(argv[i], want) == 0)
                                        hit = 1;
                        }
                        /* A terminal, but not one of the container's devpts. */
                        if (is_pty(&st) && st.st_dev != ours.st_dev)
                                hit = 1;
                        if (!hit)
                                continue;
                        found++;
                        printf("held: pid %d fd %s", pid, e->d_name);
                        if (is_pty(&st)) {
                                /* What a container would do with it: make it
                                 * its controlling terminal. */
                                pid_t c = fork();
                                if (c == 0) {
                                        int fd = open(fdpath, O_RDWR | O_NOCTTY);
                                        setsid();
                                        _exit(fd >= 0 && ioctl(fd, TIOCSCTTY, 0) == 0 ? 0 : 1);
                                }
                                int status = 1;
                                waitpid(c, &status, 0);
                                printf(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? " TIOCSCTTY-ok"
                                                                                       : " TIOCSCTTY-refused");
                        }
                        printf("\n");
                }
                closedir(d);
        }
        closedir(proc);
        if (!found)
                printf("none held\n");
        return found ? 0 : 1;
}

static int onpty(char **argv) {
        int master = posix_openpt(O_RDWR | O_NOCTTY), slave, status = 0;
        pid_t pid;

        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
                return 2;
        slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        if (slave < 0)
                return 2;
        pid = fork();
        if (pid == 0) {
                dup2(slave, 0), dup2(slave, 1), dup2(slave, 2);
                close(slave), close(master);
                execvp(argv[0], argv);
                _exit(127);
        }
        for (;;) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                char buf[4096];
                int done = waitpid(pid, &status, WNOHANG) == pid;

                while (poll(&p, 1, done ? 0 : 100) > 0) {
                        ssize_t n = read(master, buf, sizeof(buf));
                        if (n <= 0)
                                break;
                        (void) !write(1, buf, (size_t) n);
                }
                if (done)
                        break;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 4 && strcmp(argv[1], "inject") == 0)
                return inject(atoi(argv[2]), argv[3]);
        if (argc == 3 && strcmp(argv[1], "handle") == 0)
                return handle(argv[2]);
        if (argc == 4 && strcmp(argv[1], "openhandle") == 0)
                return openhandle(argv[2], argv[3]);
        if (argc == 3 && strcmp(argv[1], "mount") == 0)
                return do_mount(argv[2]);
        if (argc >= 3 && strcmp(argv[1], "onpty") == 0)
                return onpty(argv + 2);
        if (argc >= 2 && strcmp(argv[1], "fds") == 0)
                return fds(argc - 2, argv + 2);
        fprintf(stderr, "usage: escapecall inject PID SCRIPT | handle PATH | openhandle DIR HANDLE | "
                        "mount DIR | fds DEV:INO... | onpty CMD...\n");
        return 2;
}
