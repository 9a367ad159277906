/* Placeholder: replaced by the sandbox module. */
#include <errno.h>
#include <stdlib.h>
#include "runtime/sandbox.h"
uint64_t caps_default_mask(void) { return 0; }
int caps_parse(const char *s, uint64_t *ret_mask) { return -ENOSYS; }
char *caps_format(uint64_t mask) { return NULL; }
int caps_drop_bounding(uint64_t keep) { return -ENOSYS; }
int caps_apply(uint64_t keep) { return -ENOSYS; }
int no_new_privs_set(void) { return -ENOSYS; }
int seccomp_load_default(void) { return -ENOSYS; }
int rlimit_parse(const char *s, RlimitSpec *ret) { return -ENOSYS; }
const char *rlimit_name(int resource) { return NULL; }
int rlimits_apply(const RlimitSpec *specs, size_t n, const RlimitSpec **ret_failed) { return -ENOSYS; }
int netlink_loopback_up(void) { return -ENOSYS; }
