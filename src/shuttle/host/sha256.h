/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32

/* SHA-256 of a followed by b (nb may be 0), through exactly the libcrypto
 * calls src/cli/crypto-lazy.c stands in for, so that shuttlectl and
 * shuttle-oci map libcrypto only when they hash (tests/check-start-libs.sh).
 * -EOPNOTSUPP without SHA-256, -EIO when a call fails. */
int sha256_parts(const void *a, size_t na, const void *b, size_t nb, uint8_t ret[static SHA256_SIZE]);
