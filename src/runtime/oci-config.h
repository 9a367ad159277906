/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What an OCI bundle's config.json (as oci-spec.h reads it) asks of a
 * container, as the ContainerConfig that container_create() takes: the one
 * way to create a container, for shuttlectl and shuttle-oci alike.  Pure:
 * no I/O besides resolving nothing (paths are joined, never opened).
 *
 * What is carried and what is refused, key by key, is in docs/OCI.md.
 * Keys the runtime cannot honour yet are refused with the JSON path at
 * fault ("linux.uidMappings: user namespaces are not supported"), never
 * silently dropped, except where the spec lets a runtime ignore them
 * (annotations, apparmorProfile and selinuxLabel on a host without them,
 * rootfsPropagation, mountLabel). */

#include <stddef.h>

#include "runtime/container.h"
#include "runtime/oci-spec.h"

/* Fills *c (initialised with container_config_init() by the caller; freed
 * with container_config_done() in any case) for container id from spec s
 * of the bundle directory bundle (absolute).  Sets cmd_is_pid1, own_mounts,
 * env_exact, hostname_exact and the rest of what the spec says; not
 * exec_fifo, staging_dir nor cgroup_name, which are the caller's.  Without
 * a process (the spec allows it for create), argv is "/" with no
 * capabilities: the caller must never start it.  A seccomp program the
 * caller put in c->seccomp (compiled from s's profile, or read from
 * shuttle-oci's cache of them) is kept; otherwise linux.seccomp is
 * compiled here.  On
 * -EINVAL (or -ENOMEM) err names the key at fault. */
int oci_config_from_spec(const OciSpec *s, const char *bundle, const char *id, ContainerConfig *c, char *err,
                         size_t errlen);

/* One mount's options as MNT_* attributes, a bind flag and the options
 * left for the filesystem (comma-joined "key=value" and flags, malloc'ed,
 * NULL if none).  Propagation and atime options are dropped (docs/OCI.md).
 * -EOPNOTSUPP with *ret_bad the option when it cannot be honoured
 * ("idmap"). */
int oci_mount_options(char *const *options, uint32_t *ret_attrs, bool *ret_bind, char **ret_fs_options,
                      const char **ret_bad);
