/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Built in the build container with the toolchain container's compiler
 * tree, which only the broker's depend mount puts there. */
#include <greet.h>

int main(void) {
        greet("build");
        return 0;
}
