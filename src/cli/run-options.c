/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run-options.h"
#include "common/macro.h"
#include "common/parse.h"

const char run_usage[] =
        "Usage: shuttlectl run [OPTIONS] [--] CMD [ARG...]\n"
        "       shuttlectl run --rootfs IMAGE [OPTIONS] [--] [CMD [ARG...]]\n"
        "       shuttlectl run [--detach] [--learn] [--state-dir DIR] GROUP.yaml\n"
        "\n"
        "Run CMD in a new container in the foreground and exit with its status\n"
        "(128+N when it was killed by signal N), or start the app group that\n"
        "GROUP.yaml describes (see shuttle-group(5)).  On an OCI image, CMD\n"
        "defaults to the image's Entrypoint and Cmd.\n"
        "\n"
        "Options:\n"
        "  -n, --name NAME          container name (default: shuttle-PID)\n"
        "      --rootfs DIR|IMAGE|host\n"
        "                           root filesystem (default: host, the host's /usr,\n"
        "                           /bin, /sbin, /lib* and a few /etc files, read-only):\n"
        "                           a directory, an OCI runtime bundle (its root.path),\n"
        "                           or an OCI image layout DIR, DIR:TAG or oci:DIR[:TAG]\n"
        "                           (unpacked by umoci into STATE/images/, read-only;\n"
        "                           see 'shuttlectl images')\n"
        "      --hostname NAME      host name inside (default: the container name)\n"
        "  -m, --memory SIZE        memory limit, e.g. 64M, 1G\n"
        "      --pids N|max         maximum number of processes (default 2048)\n"
        "      --cpus N             CPU time limit in CPUs, e.g. 0.5, 2\n"
        "      --net MODE           loopback (default): lo up; none: no interface up\n"
        "  -v, --volume SRC:DST[:ro|rw]\n"
        "                           bind the host path SRC at DST\n"
        "  -e, --env K=V            set an environment variable\n"
        "  -u, --user UID[:GID]     run CMD as this user (supplementary groups cleared)\n"
        "      --cap-add CAP        keep a capability beyond the default set\n"
        "      --cap-drop CAP       drop a capability of the default set (ALL for all)\n"
        "      --ulimit NAME=SOFT[:HARD]\n"
        "                           set a resource limit, e.g. nofile=1024:4096\n"
        "      --read-only          mount the root filesystem read-only\n"
        "  -t, --tty                give CMD a terminal and relay this one\n"
        "  -w, --workdir DIR        working directory inside (default /)\n"
        "      --export NAME=PATH|tcp:PORT|mq:/QUEUE|shm:SIZE|fifo:/PATH\n"
        "                           offer the unix socket PATH (inside), the TCP\n"
        "                           PORT on its loopback, the POSIX message queue\n"
        "                           QUEUE, a shared-memory object of SIZE bytes or\n"
        "                           the FIFO at PATH (inside) to other containers\n"
        "                           as service NAME, subject to policy\n"
        "      --isolated           do not register with the broker: no mediation,\n"
        "                           and no notice about it\n"
        "      --no-shim            do not preload libshuttle-shim.so: programs\n"
        "                           reach services through the broker's relay\n"
        "                           only (also for app groups; see shuttle-shim(7))\n"
        "      --state-dir DIR      runtime state (default /run/shuttle)\n"
        "  -f, --file GROUP.yaml    the app group to start (also: a lone argument\n"
        "                           ending in .yaml or .yml)\n"
        "  -d, --detach             return once the container has started (app\n"
        "                           groups: once every container is ready) and\n"
        "                           leave it running; its output goes to\n"
        "                           'shuttlectl logs NAME'\n"
        "      --learn              learn mode: what the policy denies because no rule\n"
        "                           matched is allowed and recorded as 'learn'\n"
        "                           (app groups: the containers the group file marks\n"
        "                           with learn: true, or all if it marks none)\n"
        "  -h, --help               show this help\n";

enum {
        OPT_ROOTFS = 0x100,
        OPT_HOSTNAME,
        OPT_PIDS,
        OPT_CPUS,
        OPT_NET,
        OPT_CAP_ADD,
        OPT_CAP_DROP,
        OPT_ULIMIT,
        OPT_READ_ONLY,
        OPT_STATE_DIR,
        OPT_CGROUP_ROOT,
        OPT_EXPORT,
        OPT_ISOLATED,
        OPT_NO_SHIM,
        OPT_LEARN,
};

static const struct option options[] = {
        { "name", required_argument, NULL, 'n' },
        { "rootfs", required_argument, NULL, OPT_ROOTFS },
        { "hostname", required_argument, NULL, OPT_HOSTNAME },
        { "memory", required_argument, NULL, 'm' },
        { "pids", required_argument, NULL, OPT_PIDS },
        { "cpus", required_argument, NULL, OPT_CPUS },
        { "net", required_argument, NULL, OPT_NET },
        { "volume", required_argument, NULL, 'v' },
        { "env", required_argument, NULL, 'e' },
        { "user", required_argument, NULL, 'u' },
        { "cap-add", required_argument, NULL, OPT_CAP_ADD },
        { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
        { "ulimit", required_argument, NULL, OPT_ULIMIT },
        { "read-only", no_argument, NULL, OPT_READ_ONLY },
        { "tty", no_argument, NULL, 't' },
        { "workdir", required_argument, NULL, 'w' },
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "export", required_argument, NULL, OPT_EXPORT },
        { "isolated", no_argument, NULL, OPT_ISOLATED },
        { "no-shim", no_argument, NULL, OPT_NO_SHIM },
        { "learn", no_argument, NULL, OPT_LEARN },
        /* For tests: where cgroupfs is (a fake tree) - not documented. */
        { "cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT },
        { "file", required_argument, NULL, 'f' },
        { "detach", no_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        {}
};

/* "--memory" for the option whose getopt value is opt. */
static const char *option_name(int opt) {
        static char buf[64];
        for (const struct option *i = options; i->name; i++)
                if (i->val == opt) {
                        snprintf(buf, sizeof(buf), "--%s", i->name);
                        return buf;
                }
        return "?";
}

void run_options_init(RunOptions *o) {
        memset(o, 0, sizeof(*o));
        container_config_init(&o->config);
}

void run_options_done(RunOptions *o) {
        container_config_done(&o->config);
        free(o->group_file);
        memset(o, 0, sizeof(*o));
}

_printf_(2, 3) static int fail(char **ret_error, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        *ret_error = s;
        return -EINVAL;
}

static int set_string(char **field, const char *value) {
        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

/* NAME=/path.sock, NAME=tcp:PORT, NAME=mq:/QUEUE, NAME=shm:SIZE or
 * NAME=fifo:/path. */
static int parse_export(const char *arg, ContainerExport *ret, char **ret_error) {
        const char *eq = strchr(arg, '='), *v;
        ContainerExport e = {};

        if (!eq)
                return fail(ret_error, "--export: '%s': expected NAME=/path/in/container.sock", arg);
        v = eq + 1;
        e.name = strndup(arg, (size_t) (eq - arg));
        if (!e.name)
                return -ENOMEM;
        if (!container_name_is_valid(e.name)) {
                free(e.name);
                return fail(ret_error,
                            "--export: '%s': expected NAME=/path/in/container.sock, NAME=tcp:PORT, "
                            "NAME=mq:/QUEUE, NAME=shm:SIZE or NAME=fifo:/PATH (a name of A-Z a-z 0-9 _ . -)",
                            arg);
        }
        if (strneq(v, "tcp:", 4)) {
                uint32_t port;
                if (parse_uint32(v + 4, &port) < 0 || port == 0 || port > 65535) {
                        free(e.name);
                        return fail(ret_error, "--export: '%s': expected tcp:PORT with a port from 1 to 65535",
                                    arg);
                }
                e.port = (uint16_t) port;
        } else if (strneq(v, "mq:", 3)) {
                if (!mq_name_is_valid(v + 3)) {
                        free(e.name);
                        return fail(ret_error,
                                    "--export: '%s': expected mq:/QUEUE, a queue name as mq_open() takes it "
                                    "(one leading '/', at most %d more characters, no other '/')",
                                    arg, MQ_NAME_MAX);
                }
                e.mq = strdup(v + 3);
                if (!e.mq) {
                        free(e.name);
                        return -ENOMEM;
                }
        } else if (strneq(v, "shm:", 4)) {
                if (parse_size(v + 4, &e.shm_size) < 0 || e.shm_size == 0 ||
                    e.shm_size > CONTAINER_EXPORT_SHM_MAX) {
                        free(e.name);
                        return fail(ret_error, "--export: '%s': expected shm:SIZE, e.g. shm:16M (1 byte to 64G)",
                                    arg);
                }
        } else if (strneq(v, "fifo:", 5)) {
                if (!path_is_clean_absolute(v + 5)) {
                        free(e.name);
                        return fail(ret_error,
                                    "--export: '%s': expected fifo:/PATH, the FIFO's absolute path inside "
                                    "(without '.' or '..')",
                                    arg);
                }
                e.fifo = strdup(v + 5);
                if (!e.fifo) {
                        free(e.name);
                        return -ENOMEM;
                }
        } else if (path_is_clean_absolute(v)) {
                e.socket = strdup(v);
                if (!e.socket) {
                        free(e.name);
                        return -ENOMEM;
                }
        } else {
                free(e.name);
                return fail(ret_error,
                            "--export: '%s': expected NAME=/path/in/container.sock (an absolute path without "
                            "'.' or '..'), NAME=tcp:PORT, NAME=mq:/QUEUE, NAME=shm:SIZE or NAME=fifo:/PATH",
                            arg);
        }
        *ret = e;
        return 0;
}

static int parse_volume(const char *arg, Volume *ret, char **ret_error) {
        _cleanup_free_ char *copy = strdup(arg);
        char *src, *dst, *mode;

        if (!copy)
                return -ENOMEM;
        src = copy;
        dst = strchr(src, ':');
        if (!dst)
                return fail(ret_error, "--volume: '%s': expected SRC:DST[:ro|rw]", arg);
        *dst++ = '\0';
        mode = strchr(dst, ':');
        if (mode)
                *mode++ = '\0';
        if (src[0] != '/')
                return fail(ret_error, "--volume: '%s': source must be an absolute path", arg);
        if (!path_is_clean_absolute(dst) || streq(dst, "/"))
                return fail(ret_error,
                            "--volume: '%s': destination must be an absolute path other than / "
                            "without '.' or '..'",
                            arg);
        if (mode && !streq(mode, "ro") && !streq(mode, "rw"))
                return fail(ret_error, "--volume: '%s': mode must be 'ro' or 'rw'", arg);
        ret->source = strdup(src);
        ret->destination = strdup(dst);
        if (!ret->source || !ret->destination) {
                free(ret->source);
                free(ret->destination);
                return -ENOMEM;
        }
        ret->read_only = mode && streq(mode, "ro");
        return 0;
}

static int append(void **array, size_t *n, size_t size, const void *item) {
        void *a = reallocarray(*array, *n + 1, size);
        if (!a)
                return -ENOMEM;
        memcpy((char *) a + *n * size, item, size);
        *array = a;
        (*n)++;
        return 0;
}

int run_options_parse(int argc, char **argv, RunOptions *o, char **ret_error) {
        ContainerConfig *c = &o->config;
        int opt, r;

        *ret_error = NULL;
        optind = 0; /* reset getopt, also for repeated calls in tests */
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "+:n:m:v:e:u:tw:hf:d", options, NULL)) >= 0) {
                if (!o->container_option && opt != 'f' && opt != 'd' && opt != 'h' && opt != ':' && opt != '?' &&
                    opt != OPT_STATE_DIR && opt != OPT_CGROUP_ROOT && opt != OPT_NO_SHIM &&
                    opt != OPT_LEARN)
                        o->container_option = option_name(opt);
                switch (opt) {
                case 'n':
                        if (!container_name_is_valid(optarg))
                                return fail(ret_error,
                                            "--name: '%s' is not a valid name (1-63 characters "
                                            "of A-Z a-z 0-9 _ . -, starting with a letter or digit)",
                                            optarg);
                        r = set_string(&c->name, optarg);
                        break;
                case OPT_ROOTFS:
                        if (streq(optarg, "host")) {
                                free(c->rootfs);
                                c->rootfs = NULL;
                                r = 0;
                                break;
                        }
                        if (optarg[0] != '/' && !(strneq(optarg, "oci:", 4) && optarg[4] == '/'))
                                return fail(ret_error,
                                            "--rootfs: '%s': expected 'host', an absolute directory, "
                                            "DIR:TAG or oci:DIR[:TAG]",
                                            optarg);
                        r = set_string(&c->rootfs, optarg);
                        break;
                case OPT_HOSTNAME:
                        if (strlen(optarg) == 0 || strlen(optarg) > 64 || strchr(optarg, '/'))
                                return fail(ret_error, "--hostname: '%s' is not a valid host name",
                                            optarg);
                        r = set_string(&c->hostname, optarg);
                        break;
                case 'm':
                        r = parse_size(optarg, &c->limits.memory_bytes);
                        if (r < 0 || c->limits.memory_bytes < 4096)
                                return fail(ret_error,
                                            "--memory: invalid size '%s' (expected e.g. 64M or 1G, "
                                            "at least 4K)",
                                            optarg);
                        break;
                case OPT_PIDS:
                        c->limits.pids_default = false;
                        /* "max" (the cgroup's own word) turns the default
                         * limit off. */
                        if (streq(optarg, "max")) {
                                c->limits.pids_max = 0;
                                break;
                        }
                        r = parse_uint64(optarg, &c->limits.pids_max);
                        if (r < 0 || c->limits.pids_max == 0)
                                return fail(ret_error,
                                            "--pids: invalid count '%s' (expected a positive number or max)",
                                            optarg);
                        break;
                case OPT_CPUS:
                        r = parse_cpus(optarg, &c->limits.cpu_quota_usec);
                        if (r < 0)
                                return fail(ret_error,
                                            "--cpus: invalid CPU count '%s' (expected e.g. 0.5 or 2, "
                                            "between 0.01 and 1024)",
                                            optarg);
                        c->limits.cpu_period_usec = CPU_PERIOD_USEC;
                        break;
                case OPT_NET:
                        if (streq(optarg, "loopback"))
                                c->net = NET_LOOPBACK;
                        else if (streq(optarg, "none"))
                                c->net = NET_NONE;
                        else if (streq(optarg, "bridge"))
                                return fail(ret_error,
                                            "--net: 'bridge' is only available for app groups");
                        else
                                return fail(ret_error,
                                            "--net: '%s': expected 'loopback' or 'none'", optarg);
                        r = 0;
                        break;
                case 'v': {
                        Volume v = {};
                        r = parse_volume(optarg, &v, ret_error);
                        if (r < 0)
                                return r;
                        r = append((void **) &c->volumes, &c->n_volumes, sizeof(Volume), &v);
                        if (r < 0) {
                                free(v.source);
                                free(v.destination);
                        }
                        break;
                }
                case 'e': {
                        char *eq = strchr(optarg, '='), *s;
                        if (!eq || eq == optarg)
                                return fail(ret_error, "--env: '%s': expected K=V", optarg);
                        s = strdup(optarg);
                        if (!s)
                                return -ENOMEM;
                        r = append((void **) &c->env, &c->n_env, sizeof(char *), &s);
                        if (r < 0)
                                free(s);
                        break;
                }
                case 'u':
                        r = parse_uid_gid(optarg, &c->uid, &c->gid, NULL);
                        if (r < 0)
                                return fail(ret_error,
                                            "--user: '%s': expected numeric UID or UID:GID", optarg);
                        c->has_user = true;
                        break;
                case OPT_CAP_ADD:
                case OPT_CAP_DROP: {
                        uint64_t m;
                        r = caps_parse(optarg, &m);
                        if (r < 0)
                                return fail(ret_error, "%s: '%s' is not a capability name",
                                            opt == OPT_CAP_ADD ? "--cap-add" : "--cap-drop", optarg);
                        if (opt == OPT_CAP_ADD)
                                c->caps_add |= m;
                        else
                                c->caps_drop |= m;
                        break;
                }
                case OPT_ULIMIT: {
                        RlimitSpec s;
                        r = rlimit_parse(optarg, &s);
                        if (r < 0)
                                return fail(ret_error,
                                            "--ulimit: '%s': expected NAME=SOFT[:HARD], e.g. nofile=1024:4096",
                                            optarg);
                        r = append((void **) &c->rlimits, &c->n_rlimits, sizeof(RlimitSpec), &s);
                        break;
                }
                case OPT_ISOLATED:
                        o->isolated = true;
                        r = 0;
                        break;
                case OPT_NO_SHIM:
                        o->no_shim = true;
                        r = 0;
                        break;
                case OPT_READ_ONLY:
                        c->read_only = true;
                        r = 0;
                        break;
                case 't':
                        c->tty = true;
                        r = 0;
                        break;
                case 'w':
                        if (!path_is_clean_absolute(optarg))
                                return fail(ret_error,
                                            "--workdir: '%s': expected an absolute path without '.' or '..'",
                                            optarg);
                        r = set_string(&c->workdir, optarg);
                        break;
                case OPT_STATE_DIR:
                        if (optarg[0] != '/')
                                return fail(ret_error, "--state-dir: '%s': expected an absolute path",
                                            optarg);
                        r = set_string(&c->state_dir, optarg);
                        break;
                case OPT_EXPORT: {
                        ContainerExport e = {};
                        r = parse_export(optarg, &e, ret_error);
                        if (r < 0)
                                return r;
                        for (size_t i = 0; i < c->n_exports; i++)
                                if (streq(c->exports[i].name, e.name)) {
                                        r = fail(ret_error, "--export: two services named '%s'", e.name);
                                        break;
                                }
                        if (r >= 0)
                                r = append((void **) &c->exports, &c->n_exports, sizeof(ContainerExport), &e);
                        if (r < 0) {
                                free(e.name);
                                free(e.socket);
                                free(e.mq);
                                free(e.fifo);
                        }
                        break;
                }
                case OPT_CGROUP_ROOT:
                        r = set_string(&c->cgroup_root, optarg);
                        break;
                case 'f':
                        r = set_string(&o->group_file, optarg);
                        break;
                case 'd':
                        o->detach = true;
                        r = 0;
                        break;
                case OPT_LEARN:
                        o->learn = true;
                        r = 0;
                        break;
                case 'h':
                        o->help = true;
                        return 0;
                case ':':
                        return fail(ret_error, "%s: missing value", argv[optind - 1]);
                default:
                        /* getopt_long() reports "--flag=value" for a flag
                         * with the flag's value in optopt. */
                        if (optopt >= OPT_ROOTFS)
                                return fail(ret_error, "%s: takes no value", option_name(optopt));
                        if (optopt)
                                return fail(ret_error, "-%c: unknown option", optopt);
                        return fail(ret_error, "%s: unknown option (see 'shuttlectl run --help')",
                                    argv[optind - 1]);
                }
                if (r < 0)
                        return r;
        }

        if (o->group_file) {
                if (optind < argc)
                        return fail(ret_error, "-f: a group file takes no command");
                goto group;
        }
        /* On an image, the command may come from the image: the caller
         * says, once it has looked at the --rootfs (argv stays NULL). */
        if (optind >= argc && !c->rootfs)
                return fail(ret_error, "missing command (usage: shuttlectl run [OPTIONS] -- CMD [ARG...])");

        /* A single argument ending in .yaml/.yml is an app group file. */
        if (optind == argc - 1 && optind > 0 && !streq(argv[optind - 1], "--")) {
                size_t n = strlen(argv[optind]);
                if ((n > 5 && streq(argv[optind] + n - 5, ".yaml")) ||
                    (n > 4 && streq(argv[optind] + n - 4, ".yml"))) {
                        r = set_string(&o->group_file, argv[optind]);
                        if (r < 0)
                                return r;
                        goto group;
                }
        }
        if (o->detach && c->tty)
                return fail(ret_error, "--detach and --tty do not go together: a detached container has no terminal");
        c->detached = o->detach;

        if (o->isolated && o->learn)
                return fail(ret_error, "--learn needs the broker: it cannot go with --isolated");
        c->learn = o->learn;
        if (o->isolated && c->n_exports > 0)
                return fail(ret_error, "--export needs the broker: it cannot go with --isolated");
        if ((c->caps_add & c->caps_drop) != 0)
                return fail(ret_error, "--cap-add and --cap-drop name the same capability");

        if (optind >= argc)
                return 0;
        c->argv = calloc((size_t) (argc - optind) + 1, sizeof(char *));
        if (!c->argv)
                return -ENOMEM;
        for (int i = optind; i < argc; i++) {
                c->argv[i - optind] = strdup(argv[i]);
                if (!c->argv[i - optind])
                        return -ENOMEM;
        }
        return 0;

group:
        if (o->container_option)
                return fail(ret_error, "%s: set container options in the group file, not on the command line",
                            o->container_option);
        return 0;
}
