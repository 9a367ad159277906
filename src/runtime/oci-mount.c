/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* A mount's "options" of config.json split into what mount(2) and
 * mount_setattr(2) take, with the meaning runc and crun give them: flags
 * ("ro", "nosuid"), flags the option clears ("rw", "suid"), propagation
 * ("rprivate"), recursive attributes ("rro"), and everything else
 * ("size=65536k", "mode=755") joined as the filesystem's data. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "common/macro.h"
#include "runtime/oci-spec.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

typedef enum OptKind {
        OPT_SET,       /* flag set */
        OPT_CLEAR,     /* flag cleared */
        OPT_PROPAGATION,
        OPT_REC_SET,   /* recursive attribute set */
        OPT_REC_CLEAR, /* recursive attribute cleared */
        OPT_REC_ATIME, /* recursive atime mode */
        OPT_OTHER,     /* tmpcopyup, idmap, ridmap */
} OptKind;

static const struct {
        const char *name;
        OptKind kind;
        unsigned long value;
} options[] = {
        { "async", OPT_CLEAR, MS_SYNCHRONOUS },
        { "atime", OPT_CLEAR, MS_NOATIME },
        { "bind", OPT_SET, MS_BIND },
        { "defaults", OPT_SET, 0 },
        { "dev", OPT_CLEAR, MS_NODEV },
        { "diratime", OPT_CLEAR, MS_NODIRATIME },
        { "dirsync", OPT_SET, MS_DIRSYNC },
        { "exec", OPT_CLEAR, MS_NOEXEC },
        { "iversion", OPT_SET, MS_I_VERSION },
        { "lazytime", OPT_SET, MS_LAZYTIME },
        { "loud", OPT_CLEAR, MS_SILENT },
        { "mand", OPT_SET, MS_MANDLOCK },
        { "noatime", OPT_SET, MS_NOATIME },
        { "nodev", OPT_SET, MS_NODEV },
        { "nodiratime", OPT_SET, MS_NODIRATIME },
        { "noexec", OPT_SET, MS_NOEXEC },
        { "noiversion", OPT_CLEAR, MS_I_VERSION },
        { "nolazytime", OPT_CLEAR, MS_LAZYTIME },
        { "nomand", OPT_CLEAR, MS_MANDLOCK },
        { "norelatime", OPT_CLEAR, MS_RELATIME },
        { "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
        { "nosuid", OPT_SET, MS_NOSUID },
        { "nosymfollow", OPT_SET, MS_NOSYMFOLLOW },
        { "rbind", OPT_SET, MS_BIND | MS_REC },
        { "relatime", OPT_SET, MS_RELATIME },
        { "remount", OPT_SET, MS_REMOUNT },
        { "ro", OPT_SET, MS_RDONLY },
        { "rw", OPT_CLEAR, MS_RDONLY },
        { "silent", OPT_SET, MS_SILENT },
        { "strictatime", OPT_SET, MS_STRICTATIME },
        { "suid", OPT_CLEAR, MS_NOSUID },
        { "symfollow", OPT_CLEAR, MS_NOSYMFOLLOW },
        { "sync", OPT_SET, MS_SYNCHRONOUS },

        { "private", OPT_PROPAGATION, MS_PRIVATE },
        { "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC },
        { "shared", OPT_PROPAGATION, MS_SHARED },
        { "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC },
        { "slave", OPT_PROPAGATION, MS_SLAVE },
        { "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC },
        { "unbindable", OPT_PROPAGATION, MS_UNBINDABLE },
        { "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC },

        { "rro", OPT_REC_SET, MOUNT_ATTR_RDONLY },
        { "rrw", OPT_REC_CLEAR, MOUNT_ATTR_RDONLY },
        { "rnosuid", OPT_REC_SET, MOUNT_ATTR_NOSUID },
        { "rsuid", OPT_REC_CLEAR, MOUNT_ATTR_NOSUID },
        { "rnodev", OPT_REC_SET, MOUNT_ATTR_NODEV },
        { "rdev", OPT_REC_CLEAR, MOUNT_ATTR_NODEV },
        { "rnoexec", OPT_REC_SET, MOUNT_ATTR_NOEXEC },
        { "rexec", OPT_REC_CLEAR, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", OPT_REC_SET, MOUNT_ATTR_NODIRATIME },
        { "rdiratime", OPT_REC_CLEAR, MOUNT_ATTR_NODIRATIME },
        { "rnosymfollow", OPT_REC_SET, MOUNT_ATTR_NOSYMFOLLOW },
        { "rsymfollow", OPT_REC_CLEAR, MOUNT_ATTR_NOSYMFOLLOW },
        { "rrelatime", OPT_REC_ATIME, MOUNT_ATTR_RELATIME },
        { "rnorelatime", OPT_REC_CLEAR, MOUNT_ATTR__ATIME }, /* back to the default */
        { "rnoatime", OPT_REC_ATIME, MOUNT_ATTR_NOATIME },
        { "ratime", OPT_REC_CLEAR, MOUNT_ATTR__ATIME },
        { "rstrictatime", OPT_REC_ATIME, MOUNT_ATTR_STRICTATIME },
        { "rnostrictatime", OPT_REC_CLEAR, MOUNT_ATTR__ATIME },

        { "tmpcopyup", OPT_OTHER, 0 },
        { "idmap", OPT_OTHER, 0 },
        { "ridmap", OPT_OTHER, 0 },
};

size_t oci_mount_option_names(const char **ret, size_t size) {
        for (size_t i = 0; i < ELEMENTSOF(options) && i < size; i++)
                ret[i] = options[i].name;
        return ELEMENTSOF(options);
}

static int data_append(char **data, const char *opt) {
        size_t old = *data ? strlen(*data) : 0, n = strlen(opt);
        char *d;

        d = realloc(*data, old + (old ? 1 : 0) + n + 1);
        if (!d)
                return -ENOMEM;
        if (old)
                d[old++] = ',';
        memcpy(d + old, opt, n + 1);
        *data = d;
        return 0;
}

int oci_mount_options_parse(char *const *opts, OciMountOptions *ret) {
        OciMountOptions o = {};
        int r;

        for (size_t i = 0; opts && opts[i]; i++) {
                bool found = false;

                for (size_t j = 0; j < ELEMENTSOF(options) && !found; j++) {
                        if (!streq(options[j].name, opts[i]))
                                continue;
                        found = true;
                        switch (options[j].kind) {
                        case OPT_SET:
                                o.flags |= options[j].value;
                                o.clear &= ~options[j].value;
                                break;
                        case OPT_CLEAR:
                                o.flags &= ~options[j].value;
                                o.clear |= options[j].value;
                                break;
                        case OPT_PROPAGATION:
                                /* Applied after the mount, in the order given;
                                 * the last one wins, as in runc. */
                                o.propagation = options[j].value;
                                break;
                        case OPT_REC_SET:
                                o.rec_attr_set |= options[j].value;
                                o.rec_attr_clr &= ~options[j].value;
                                break;
                        case OPT_REC_CLEAR:
                                o.rec_attr_set &= ~options[j].value;
                                o.rec_attr_clr |= options[j].value;
                                break;
                        case OPT_REC_ATIME:
                                o.rec_attr_set = (o.rec_attr_set & ~(uint64_t) MOUNT_ATTR__ATIME) |
                                                 options[j].value;
                                o.rec_attr_clr |= MOUNT_ATTR__ATIME;
                                break;
                        case OPT_OTHER:
                                if (streq(opts[i], "tmpcopyup"))
                                        o.tmpcopyup = true;
                                else if (streq(opts[i], "idmap"))
                                        o.idmap = true;
                                else
                                        o.idmap = o.recursive_idmap = true;
                                break;
                        }
                }
                if (found)
                        continue;
                /* Everything else is the filesystem's own ("size=65536k",
                 * "mode=755", "gid=5"), in the order given. */
                r = data_append(&o.data, opts[i]);
                if (r < 0) {
                        free(o.data);
                        return r;
                }
        }
        *ret = o;
        return 0;
}

void oci_mount_options_done(OciMountOptions *o) {
        if (!o)
                return;
        free(o->data);
        *o = (OciMountOptions){};
}
