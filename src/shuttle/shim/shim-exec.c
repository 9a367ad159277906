/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shim's exec hooks: exec (or posix_spawn) of
 * /run/shuttle/apps/<container>/<app> becomes the same call of
 * /run/shuttle/bin/shuttle-invoke with the argument list
 * ["shuttle-invoke", "--", <container>, <app>, argv[1]…] and the same
 * environment (and, for posix_spawn, the same file actions and
 * attributes): the process image becomes shuttle-invoke, which sends the
 * INVOKE, and its exit status is the app's.  <app> is a bare name for
 * apps/<container>/<name>, a path for apps/<container>/usr/bin/x (see
 * app-entry.h); the broker resolves a bare name and decides.
 *
 * Without the shim, the entries the broker makes for literal rules are
 * links to shuttle-invoke, which works out the same from the name it was
 * executed by; the shim adds every other name under apps/ (apps a glob
 * rule allows, the path form), and spares the kernel the link.
 *
 * glibc's execv(), execvp(), execl()… call its execve() internally, not
 * through the PLT, so each function is hooked by itself.
 *
 * execve(), execv(), execl() and execle() are async-signal-safe (and are
 * called in vfork() children): their hooks allocate nothing, take no lock
 * and keep everything on the stack, with bounded arrays (an argument list
 * too long for an INVOKE fails with E2BIG, as would the broker).  They do
 * not talk to the broker either, so the shim_in_redirect flag of shim.c is not
 * needed here.  A call that is not for an app entry costs a comparison of
 * the path's first bytes before the real one. */

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "shuttle/client/app-entry.h"
#include "shuttle/shim/shim-internal.h"

/* The documented name (a link the broker makes to the helper it binds in). */
#define SHIM_INVOKE_PATH "/run/shuttle/bin/shuttle-invoke"
/* "shuttle-invoke", "--", the target, the app, at most SHUTTLE_ARGS_MAX
 * arguments, NULL. */
#define SHIM_INVOKE_ARGV_MAX (4 + SHUTTLE_ARGS_MAX + 1)
/* execl(), execlp(), execle(): the argument list is collected on the
 * stack, NULL included.  (A C call with more arguments than this is not
 * something one writes.) */
#define SHIM_EXECL_ARGS_MAX 1024

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*posix_spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                              char *const[], char *const[]);

static execve_fn real_execve, real_execvpe;
static execv_fn real_execv, real_execvp;
static posix_spawn_fn real_posix_spawn, real_posix_spawnp;

void shim_exec_init(void) {
        /* Normally from the constructor: dlsym() is not async-signal-safe,
         * so the hooks must not be the first to need these. */
        if (!real_execve)
                real_execve = (execve_fn) dlsym(RTLD_NEXT, "execve");
        if (!real_execvpe)
                real_execvpe = (execve_fn) dlsym(RTLD_NEXT, "execvpe");
        if (!real_execv)
                real_execv = (execv_fn) dlsym(RTLD_NEXT, "execv");
        if (!real_execvp)
                real_execvp = (execv_fn) dlsym(RTLD_NEXT, "execvp");
        if (!real_posix_spawn)
                real_posix_spawn = (posix_spawn_fn) dlsym(RTLD_NEXT, "posix_spawn");
        if (!real_posix_spawnp)
                real_posix_spawnp = (posix_spawn_fn) dlsym(RTLD_NEXT, "posix_spawnp");
}

#define NEED_REAL(fn, fail)                         \
        do {                                        \
                if (__builtin_expect(!(fn), 0)) {   \
                        shim_exec_init();           \
                        if (!(fn)) {                \
                                errno = ENOSYS;     \
                                return (fail);      \
                        }                           \
                }                                   \
        } while (0)

/* The test every call makes: cheap, and false for everything not ours. */
static inline bool is_entry_path(const char *path) {
        return !shim_disabled && __builtin_expect(shuttle_app_entry_has_prefix(path), 0);
}

/* ---- the rewritten call ----------------------------------------------- */

typedef struct InvokeArgv {
        char target[SHUTTLE_NAME_MAX + 1];
        char app[SHUTTLE_PATH_MAX + 1];
        char *argv[SHIM_INVOKE_ARGV_MAX];
} InvokeArgv;

/* shuttle-invoke's argument list for exec of the entry path with argv:
 * 0, -ENOSYS if path is not an entry's name after all (the real call
 * gets it), -E2BIG if there are more arguments than an INVOKE takes. */
static int invoke_argv(const char *path, char *const argv[], InvokeArgv *ia) {
        size_t n = 0;

        if (shuttle_app_entry_parse(path, ia->target, ia->app) < 0)
                return -ENOSYS;
        ia->argv[n++] = (char *) "shuttle-invoke";
        /* shuttle-invoke parses no option after "--": a target or app
         * starting with '-' stays what it is. */
        ia->argv[n++] = (char *) "--";
        ia->argv[n++] = ia->target;
        ia->argv[n++] = ia->app;
        /* argv[0] is the name the caller chose; the broker sets the app's. */
        if (argv && argv[0])
                for (char *const *a = argv + 1; *a; a++) {
                        if (n >= SHIM_INVOKE_ARGV_MAX - 1)
                                return -E2BIG;
                        ia->argv[n++] = *a;
                }
        ia->argv[n] = NULL;
        return 0;
}

/* Not inlined: the few KiB it needs are only taken for an app entry. */
__attribute__((noinline)) int shim_exec_redirect(const char *path, char *const argv[], char *const envp[]) {
        InvokeArgv ia;
        int r;

        if (!real_execve)
                return -ENOSYS;
        r = invoke_argv(path, argv, &ia);
        if (r < 0)
                return r;
        (void) real_execve(SHIM_INVOKE_PATH, ia.argv, envp);
        return -errno;
}

/* posix_spawn() of shuttle-invoke: its result (0 or an error number), or
 * -ENOSYS / -E2BIG as invoke_argv(). */
static __attribute__((noinline)) int spawn_redirect(pid_t *pid, const char *path,
                                                     const posix_spawn_file_actions_t *fa,
                                                     const posix_spawnattr_t *attr, char *const argv[],
                                                     char *const envp[]) {
        InvokeArgv ia;
        int r;

        if (!real_posix_spawn)
                return -ENOSYS;
        r = invoke_argv(path, argv, &ia);
        if (r < 0)
                return r;
        return real_posix_spawn(pid, SHIM_INVOKE_PATH, fa, attr, ia.argv, envp);
}

/* For execve() and friends: does not return if the exec succeeded; -1
 * with errno if it failed; 1 if path was not ours after all (errno as it
 * was), and the caller goes on with the real call. */
static int exec_entry(const char *path, char *const argv[], char *const envp[]) {
        int saved = errno, r;

        r = shim_exec_redirect(path, argv, envp);
        if (r == -ENOSYS) {
                errno = saved;
                return 1;
        }
        errno = -r;
        return -1;
}

/* ---- the p-variants: what $PATH finds --------------------------------- */

/* The app entry that execvp(file) reaches, in buf if searched, or NULL if
 * it reaches anything else (the real call then searches for itself).  A
 * name with a '/' is taken as it is; a bare name is looked up in $PATH as
 * execvp() does, and is ours only if the first executable file found is
 * under /run/shuttle/apps/.  $PATH is read with secure_getenv(): a
 * set-user-ID program's search is left to the C library (whose exec of an
 * entry still works, through the link). */
static const char *find_entry(const char *file, char buf[static PATH_MAX]) {
        const char *search, *p;
        size_t fn;
        int saved;

        if (shim_disabled || !file || !*file)
                return NULL;
        if (strchr(file, '/'))
                return is_entry_path(file) ? file : NULL;
        search = secure_getenv("PATH");
        /* The cheap test: no element of $PATH is under apps/. */
        if (!search || !strstr(search, SHUTTLE_APPS_DIR))
                return NULL;
        fn = strlen(file);
        saved = errno;
        for (p = search;;) {
                const char *e = strchrnul(p, ':');
                size_t n = (size_t) (e - p);
                struct stat st;

                while (n > 1 && p[n - 1] == '/')
                        n--;
                if (n + 1 + fn < PATH_MAX) {
                        /* An empty element is the current directory. */
                        if (n > 0) {
                                memcpy(buf, p, n);
                                buf[n++] = '/';
                        }
                        memcpy(buf + n, file, fn + 1);
                        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) {
                                errno = saved;
                                return is_entry_path(buf) ? buf : NULL;
                        }
                }
                if (!*e)
                        break;
                p = e + 1;
        }
        errno = saved;
        return NULL;
}

/* ---- the hooks -------------------------------------------------------- */

_hook_ int execve(const char *path, char *const argv[], char *const envp[]) {
        NEED_REAL(real_execve, -1);
        if (is_entry_path(path) && exec_entry(path, argv, envp) <= 0)
                return -1;
        return real_execve(path, argv, envp);
}

_hook_ int execv(const char *path, char *const argv[]) {
        NEED_REAL(real_execv, -1);
        if (is_entry_path(path) && exec_entry(path, argv, environ) <= 0)
                return -1;
        return real_execv(path, argv);
}

_hook_ int execvp(const char *file, char *const argv[]) {
        char buf[PATH_MAX];
        const char *entry;

        NEED_REAL(real_execvp, -1);
        entry = find_entry(file, buf);
        if (entry && exec_entry(entry, argv, environ) <= 0)
                return -1;
        return real_execvp(file, argv);
}

_hook_ int execvpe(const char *file, char *const argv[], char *const envp[]) {
        char buf[PATH_MAX];
        const char *entry;

        NEED_REAL(real_execvpe, -1);
        entry = find_entry(file, buf);
        if (entry && exec_entry(entry, argv, envp) <= 0)
                return -1;
        return real_execvpe(file, argv, envp);
}

/* execl() and friends: arg0 and the arguments up to the NULL into argv;
 * ap is left after the NULL (where execle()'s envp is).  -E2BIG if they do
 * not fit. */
static int collect_args(char *argv[static SHIM_EXECL_ARGS_MAX], const char *arg0, va_list *ap) {
        size_t n = 0;

        argv[n] = (char *) arg0;
        while (argv[n]) {
                if (++n >= SHIM_EXECL_ARGS_MAX)
                        return -E2BIG;
                argv[n] = va_arg(*ap, char *);
        }
        return 0;
}

_hook_ int execl(const char *path, const char *arg, ...) {
        char *argv[SHIM_EXECL_ARGS_MAX];
        va_list ap;
        int r;

        NEED_REAL(real_execv, -1);
        va_start(ap, arg);
        r = collect_args(argv, arg, &ap);
        va_end(ap);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        if (is_entry_path(path) && exec_entry(path, argv, environ) <= 0)
                return -1;
        return real_execv(path, argv);
}

_hook_ int execlp(const char *file, const char *arg, ...) {
        char *argv[SHIM_EXECL_ARGS_MAX], buf[PATH_MAX];
        const char *entry;
        va_list ap;
        int r;

        NEED_REAL(real_execvp, -1);
        va_start(ap, arg);
        r = collect_args(argv, arg, &ap);
        va_end(ap);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        entry = find_entry(file, buf);
        if (entry && exec_entry(entry, argv, environ) <= 0)
                return -1;
        return real_execvp(file, argv);
}

_hook_ int execle(const char *path, const char *arg, ...) {
        char *argv[SHIM_EXECL_ARGS_MAX];
        char *const *envp;
        va_list ap;
        int r;

        NEED_REAL(real_execve, -1);
        va_start(ap, arg);
        r = collect_args(argv, arg, &ap);
        envp = r < 0 ? NULL : va_arg(ap, char *const *);
        va_end(ap);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        if (is_entry_path(path) && exec_entry(path, argv, envp) <= 0)
                return -1;
        return real_execve(path, argv, envp);
}

/* posix_spawn() returns an error number and leaves errno alone. */
static int spawn_entry(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
        int saved = errno, r;

        r = spawn_redirect(pid, path, fa, attr, argv, envp);
        errno = saved;
        return r == -E2BIG ? E2BIG : r;
}

_hook_ int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
        int r;

        NEED_REAL(real_posix_spawn, ENOSYS);
        if (is_entry_path(path) && (r = spawn_entry(pid, path, fa, attr, argv, envp)) != -ENOSYS)
                return r;
        return real_posix_spawn(pid, path, fa, attr, argv, envp);
}

_hook_ int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
        char buf[PATH_MAX];
        const char *entry;
        int r;

        NEED_REAL(real_posix_spawnp, ENOSYS);
        entry = find_entry(file, buf);
        if (entry && (r = spawn_entry(pid, entry, fa, attr, argv, envp)) != -ENOSYS)
                return r;
        return real_posix_spawnp(pid, file, fa, attr, argv, envp);
}
