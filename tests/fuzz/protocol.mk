# libFuzzer target for the wire protocol decoder:
#   ./configure --enable-fuzzing CC=clang && make fuzz-protocol
#   ./fuzz-protocol -max_len=8193 [CORPUS_DIR]
# The decoder is compiled into the target so that it is instrumented.
if ENABLE_FUZZING
noinst_PROGRAMS += fuzz-protocol
fuzz_protocol_SOURCES = tests/fuzz/fuzz-protocol.c \
	src/shuttle/client/protocol.h src/shuttle/client/protocol.c
fuzz_protocol_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer,address
fuzz_protocol_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address
fuzz_protocol_LDADD = libshuttle-common.la
endif
