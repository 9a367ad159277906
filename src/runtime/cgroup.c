/* Placeholder: replaced by the cgroup backends. */
#include <errno.h>
#include <stddef.h>
#include "runtime/cgroup.h"
int cgroup_probe(const char *root, CgroupVersion *ret) { return -ENOSYS; }
int cgroup_create(const char *root, const char *self_cgroup_file, const char *name,
                  const CgroupLimits *limits, Cgroup **ret) { return -ENOSYS; }
CgroupVersion cgroup_version(const Cgroup *cg) { return CGROUP_V1; }
const char *cgroup_path(const Cgroup *cg) { return ""; }
int cgroup_attach(Cgroup *cg, pid_t pid) { return -ENOSYS; }
int cgroup_oom_kill_count(Cgroup *cg, uint64_t *ret) { return -ENOSYS; }
int cgroup_kill_all(Cgroup *cg) { return -ENOSYS; }
int cgroup_destroy(Cgroup *cg) { return -ENOSYS; }
Cgroup *cgroup_free(Cgroup *cg) { return NULL; }
int cgroup_remove_stale(const char *root, const char *self_cgroup_file, const char *name) { return 0; }
