/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: shuttle_msg_decode() on arbitrary bytes, as a hostile
 * container would send them.  The first input byte picks the fd count and
 * the accepted directions; the rest is the datagram.  Whatever decodes must
 * encode again and decode to the same message. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shuttle/client/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static uint8_t again[SHUTTLE_FRAME_MAX];
        ShuttleMsg m, m2;
        const char *reason = NULL;
        size_t n_fds, len;
        unsigned flags;
        int r;

        if (size < 1)
                return 0;
        n_fds = data[0] & 3;
        flags = (data[0] >> 2) & 3;
        if (flags == 0)
                flags = SHUTTLE_DECODE_REQUEST | SHUTTLE_DECODE_REPLY;
        data++;
        size--;

        r = shuttle_msg_decode(data, size, n_fds, flags, &m, &reason);
        if (r < 0) {
                if (!reason)
                        abort();
                return 0;
        }
        if (shuttle_msg_encode(&m, again, sizeof(again), &len, &reason) < 0)
                abort();
        if (shuttle_msg_decode(again, len, n_fds, flags, &m2, &reason) < 0)
                abort();
        if (m2.type != m.type || m2.id != m.id || m2.present != m.present || m2.n_args != m.n_args ||
            m2.n_env != m.n_env)
                abort();
        return 0;
}
