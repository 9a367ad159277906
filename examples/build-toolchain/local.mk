# The build-toolchain example (depend): nothing to build, files to ship.
EXTRA_DIST += examples/build-toolchain/README.md examples/build-toolchain/group.yaml \
	examples/build-toolchain/policy.yaml examples/build-toolchain/src/hello.c \
	examples/build-toolchain/toolchain/bin/tcc-wrapper examples/build-toolchain/toolchain/include/greet.h
