/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "runtime/container.h"

typedef struct RunOptions {
        ContainerConfig config;
        bool help;
        bool isolated; /* --isolated: do not register with the broker */
        bool detach;   /* --detach */
        bool no_shim;  /* --no-shim: do not preload libshuttle-shim.so */
        bool learn;    /* --learn: the operator names learn mode (shuttle-group(5)) */
        const char *container_option; /* the first option that applies to a single container */
        char *group_file; /* `run GROUP.yaml` / `-f FILE` (app groups) */
} RunOptions;

void run_options_init(RunOptions *o);
void run_options_done(RunOptions *o);

/* Parses `run` arguments (argv[0] = "run").  On a bad option or value
 * returns -EINVAL and *ret_error holds a one-line message naming the option.
 * Creates nothing and touches nothing outside *o. */
int run_options_parse(int argc, char **argv, RunOptions *o, char **ret_error);

extern const char run_usage[];
