/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The policies a broker served, kept by digest, so that an audit record
 * (which names the policy that decided it by its digest, extra key
 * "policy") can be decided again against it later (`shuttlectl audit
 * explain`).
 *
 * The digest is SHA-256 of the policy's canonical source: the normalised
 * YAML of policy_dump_yaml() (includes resolved, defaults filled in, every
 * rule with its id), so comments, layout and the split into files do not
 * change it, and the kept file, <state>/policies/<digest>.yaml, loads back
 * to a policy with the same digest.  Its rules' file:line are the kept
 * file's; their ids are the original ones. */

#include "policy/policy.h"

#define POLICY_DIGEST_LEN 64u
#define POLICY_STORE_DIR "policies"

/* The digest, as 64 lowercase hex digits. */
int policy_store_digest(const Policy *p, char ret[static POLICY_DIGEST_LEN + 1]);
/* The digest, and the policy kept as <state_dir>/policies/<digest>.yaml
 * (0600, in a 0700 directory) unless it is there already.  *ret is set
 * whenever the digest could be computed, even if the file could not be
 * written (then the return value says why). */
int policy_store_save(const char *state_dir, const Policy *p, char ret[static POLICY_DIGEST_LEN + 1]);
/* <state_dir>/policies/<digest>.yaml, malloc'ed; NULL for a digest that
 * is not 64 lowercase hex digits (or out of memory). */
char *policy_store_path(const char *state_dir, const char *digest);
