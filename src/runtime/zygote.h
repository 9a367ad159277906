/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the caller of a command in a container (exec.c) and the processes
 * it starts there say to each other: the reports of exec's joiner and
 * command, and the requests to a zygote.  Header-only: shuttle-zygote
 * (zygote-main.c) is a static program that includes nothing else of
 * ours.
 *
 * A zygote is a process already inside a running container: its
 * namespaces, its cgroup, its sandbox (bounding set, rlimits, user,
 * capabilities, no_new_privs, seccomp), started once through exec's join
 * path as the program shuttle-zygote and holding nothing but its end of a
 * socket pair (descriptor 3).  For each request it forks once (clone with
 * CLONE_PARENT, so the new process is the caller's child, whose exit
 * status the caller reads itself), and the child joins the invocation's
 * cgroups through descriptors the caller opened, takes its stdio and
 * passed descriptors, closes everything else and executes the command.
 * See container_zygote_spawn() in exec.h. */

#include <stdint.h>
#include <sys/types.h>

/* From the joiner, the command, a zygote and its children to the caller,
 * over a CLOEXEC SOCK_SEQPACKET pair: one message per packet.  What comes
 * from inside the container is believed no further than the caller can
 * check it. */
typedef enum ExecMessageType {
        EXEC_MSG_PID = 1,     /* the command exists: pid (as the host sees it) */
        EXEC_MSG_ERROR,       /* joining or dropping privileges failed */
        EXEC_MSG_EXEC_FAILED, /* execvp failed: err */
        EXEC_MSG_TTY,         /* --tty: carries the pty master (the only fd) */
        EXEC_MSG_PIDFD,       /* a zygote's child exists: carries its pidfd
                               * (the only fd; pid is as the zygote sees it) */
        EXEC_MSG_SECCOMP_LISTENER, /* exec's command, with an OCI profile's
                                    * notify rules: carries the notify fd
                                    * (before PID; the only fd) */
} ExecMessageType;

typedef struct ExecMessage {
        int type;
        int err; /* positive errno */
        pid_t pid;
        char text[400];
} ExecMessage;

/* A request to a zygote: this header, then n_argv and n_env
 * NUL-terminated strings (strings_len bytes in all), in one packet.  Its
 * descriptors, in this order: the report socket (where the child's
 * ExecMessages go, close-on-exec in the child), the command's stdin,
 * stdout and stderr, n_cgroup_fds cgroup files open for writing
 * ("tasks" on v1, "cgroup.procs" on v2) that the child writes "0" to,
 * and n_pass_fds descriptors that become the command's 3, 4, ... */
#define ZYGOTE_MAGIC UINT32_C(0x5a59474f) /* "ZYGO" */
#define ZYGOTE_REQUEST_MAX (128 * 1024)  /* the whole packet */
#define ZYGOTE_FDS_MAX 253               /* SCM_MAX_FD */
#define ZYGOTE_ARGS_MAX 4096             /* argv and env strings each */

typedef struct ZygoteRequest {
        uint32_t magic;
        uint32_t n_argv;
        uint32_t n_env;
        uint32_t n_cgroup_fds;
        uint32_t n_pass_fds;
        uint32_t strings_len;
        uint32_t flags;         /* ZYGOTE_WAIT_GO */
} ZygoteRequest;

/* The child, once ready (its cgroups joined, its descriptors in place),
 * reads one byte from its report socket and executes the command only if
 * it is "g"; anything else (the caller closed its end, killed it) and it
 * exits 125 without its exec.  The caller prepares an invocation while
 * its decision's record is being synced and says "go" only once it is on
 * disk (container_zygote_prepare()). */
#define ZYGOTE_WAIT_GO UINT32_C(1)

/* Descriptor 3 of a zygote: its end of the socket pair. */
#define ZYGOTE_SOCKET_FD 3
