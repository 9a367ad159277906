/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where shuttlectl finds the shuttle-invoke helper on the host, to bind it
 * into the containers it starts (ContainerConfig.invoke_path). */

/* In a build tree, next to the running binary: <dir of /proc/self/exe>/
 * shuttle-invoke; else the installed SHUTTLE_LIBEXECDIR one.  Returns 0 and
 * a new string, or -ENOENT when there is none (-ENOMEM). */
int invoke_helper_locate(char **ret);
