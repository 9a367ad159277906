# What shuttled and shuttlectl share on the host: the control channel
# (control.c), what shuttlectl asks of the broker (broker-client.c),
# finding our binaries (locate.c), connecting inside a container's root or
# network namespace (nsconnect.c), the policies a broker served kept by
# digest for `audit explain` (policy-store.c), SHA-256 through the libcrypto
# calls crypto-lazy.c stands in for (sha256.c; also shuttle-oci's seccomp cache).
libshuttle_broker_la_SOURCES += \
	src/shuttle/host/control.h src/shuttle/host/control.c \
	src/shuttle/host/broker-client.h src/shuttle/host/broker-client.c \
	src/shuttle/host/locate.h src/shuttle/host/locate.c \
	src/shuttle/host/nsconnect.h src/shuttle/host/nsconnect.c \
	src/shuttle/host/policy-store.h src/shuttle/host/policy-store.c \
	src/shuttle/host/sha256.h src/shuttle/host/sha256.c
