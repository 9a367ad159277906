/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding the project's other files: next to the running program first
 * (a build tree), then where `make install` put them. */

#include <stdbool.h>

/* <directory of /proc/self/exe>/<build_path>, else <installed_path>; the
 * file must be executable (want_exec) or readable.  0 and a malloc'ed path,
 * -ENOENT, or -ENOMEM. */
int shuttle_locate(const char *build_path, const char *installed_path, bool want_exec, char **ret);

/* The ones the CLI and the group supervisor need. */
#define shim_locate(ret) shuttle_locate(".libs/libshuttle-shim.so", SHUTTLE_LIBDIR "/libshuttle-shim.so", false, (ret))
#define invoke_helper_locate(ret) \
        shuttle_locate("shuttle-invoke", SHUTTLE_LIBEXECDIR "/shuttle-invoke", true, (ret))
#define name_helper_locate(ret) shuttle_locate("shuttle-name", SHUTTLE_LIBEXECDIR "/shuttle-name", true, (ret))
#define transfer_helper_locate(ret) \
        shuttle_locate("shuttle-transfer", SHUTTLE_LIBEXECDIR "/shuttle-transfer", true, (ret))
#define monitor_locate(ret) shuttle_locate("shuttle-monitor", SHUTTLE_LIBEXECDIR "/shuttle-monitor", true, (ret))
#define zygote_helper_locate(ret) \
        shuttle_locate("shuttle-zygote", SHUTTLE_LIBEXECDIR "/shuttle-zygote", true, (ret))
/* shuttle-init, what a container's pid 1 execs once CMD is forked
 * (ContainerConfig.init_path).  The test-only SHUTTLE_TEST_INIT_PROGRAM
 * names another file (which may be missing: the init then stays itself). */
int init_locate(char **ret);
#define shuttled_locate(ret) shuttle_locate("shuttled", SHUTTLE_SBINDIR "/shuttled", true, (ret))
