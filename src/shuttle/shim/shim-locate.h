/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where shuttlectl finds libshuttle-shim.so on the host, to have it
 * preloaded in the containers it starts (ContainerConfig.shim_path). */

/* In a build tree, next to the running binary: <dir of /proc/self/exe>/
 * .libs/libshuttle-shim.so; else the installed SHUTTLE_LIBDIR one.  Returns
 * 0 and a new string, or -ENOENT when there is none (-ENOMEM). */
int shim_locate(char **ret);
