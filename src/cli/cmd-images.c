/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* shuttlectl images: the OCI images `run --rootfs` unpacked into
 * <state>/images/ (runtime/image-store.c). */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/verb-options.h"
#include "runtime/image.h"

static const char images_usage[] =
        "Usage: shuttlectl images [--state-dir DIR]\n"
        "       shuttlectl images rm [--state-dir DIR] DIGEST...\n"
        "       shuttlectl images rm [--state-dir DIR] --all\n"
        "\n"
        "List the OCI images that 'shuttlectl run' unpacked into STATE/images/ to\n"
        "run on (one entry per manifest digest), or remove them.  An image in use\n"
        "by a running container is not removed.\n"
        "\n"
        "Options:\n"
        "      --all             rm: every image not in use, and what a killed\n"
        "                        unpack left\n"
        "      --state-dir DIR   runtime state (default /run/shuttle)\n"
        "  -h, --help            show this help\n";

enum { OPT_STATE_DIR = 0x100, OPT_ALL };

static const struct option options[] = {
        { "state-dir", required_argument, NULL, OPT_STATE_DIR },
        { "all", no_argument, NULL, OPT_ALL },
        { "help", no_argument, NULL, 'h' },
        {}
};

static int images_list(const char *state) {
        ImageEntry *e = NULL;
        size_t n = 0;
        int r;

        r = image_store_list(state, &e, &n);
        if (r < 0)
                return log_error_errno(r, "images: cannot read '%s/images': %m", state), 1;
        printf("%-19s %-6s %-20s %-20s %s\n", "DIGEST", "IN USE", "UNPACKED", "TAG", "SOURCE");
        for (size_t i = 0; i < n; i++) {
                char when[32] = "-";
                time_t t = (time_t) e[i].unpacked_at;
                struct tm tm;

                if (t > 0 && gmtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
                printf("sha256:%.12s %-6s %-20s %-20s %s\n", e[i].digest + 7, e[i].in_use ? "yes" : "no", when,
                       e[i].tag ?: "-", e[i].source ?: "-");
        }
        image_entries_free(e, n);
        return 0;
}

static int remove_one(const char *state, const char *what, bool quiet_busy) {
        char err[IMAGE_ERROR_MAX] = "", digest[IMAGE_DIGEST_MAX];
        int r;

        r = image_store_remove(state, what, digest, err, sizeof(err));
        if (r == -EBUSY && quiet_busy) {
                log_notice("images rm: %s: kept", err);
                return 0;
        }
        if (r < 0) {
                log_error("images rm: %s", err[0] ? err : strerror(-r));
                return r;
        }
        printf("%s\n", digest);
        return 0;
}

static int images_rm(const char *state, bool all, int argc, char **argv) {
        int ret = 0;

        if (all == (argc > 0)) {
                log_error("images rm: name the images (DIGEST...) or give --all, not both");
                return EXIT_USAGE;
        }
        if (all) {
                ImageEntry *e = NULL;
                size_t n = 0;
                unsigned left = 0;
                int r = image_store_list(state, &e, &n);

                if (r < 0)
                        return log_error_errno(r, "images rm: cannot read '%s/images': %m", state), 1;
                for (size_t i = 0; i < n; i++)
                        if (remove_one(state, e[i].digest, true) < 0)
                                ret = 1;
                image_entries_free(e, n);
                /* And what an unpack or a removal that was killed left. */
                r = image_store_clean(state, &left);
                if (r < 0)
                        return log_error_errno(r, "images rm: cannot clean '%s/images': %m", state), 1;
                if (left > 0)
                        log_notice("images rm: removed %u unfinished unpack(s) or removal(s)", left);
                return ret;
        }
        for (int i = 0; i < argc; i++)
                if (remove_one(state, argv[i], false) < 0)
                        ret = 1;
        return ret;
}

int verb_images(int argc, char **argv) {
        const char *state = "/run/shuttle";
        bool all = false, rm = false;
        int c, r;

        optind = 0;
        opterr = 0;
        for (;;) {
                /* Options before and after "rm" alike. */
                while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                        switch (c) {
                        case OPT_STATE_DIR:
                                r = verb_state_dir("images", optarg, &state);
                                if (r != 0)
                                        return r;
                                break;
                        case OPT_ALL:
                                all = true;
                                break;
                        case 'h':
                                fputs(images_usage, stdout);
                                return 0;
                        default:
                                return verb_option_error("images", c, argv);
                        }
                if (rm || optind >= argc || !streq(argv[optind], "rm"))
                        break;
                rm = true;
                /* getopt_long() goes on after "rm" with what follows. */
                argc -= optind;
                argv += optind;
                optind = 0;
        }
        if (rm)
                return images_rm(state, all, argc - optind, argv + optind);
        if (all) {
                log_error("images: --all goes with 'images rm'");
                return EXIT_USAGE;
        }
        if (optind < argc) {
                log_error("images: unknown command '%s' (see 'shuttlectl images --help')", argv[optind]);
                return EXIT_USAGE;
        }
        return images_list(state);
}
