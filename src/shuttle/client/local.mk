# The client side: the wire protocol of broker.sock, libshuttle, and the
# static helpers bound into every container.  libc and src/common only.
include src/shuttle/client/protocol.mk
include src/shuttle/client/invoke.mk
include src/shuttle/client/libshuttle.mk
include src/shuttle/client/name.mk
include src/shuttle/client/transfer.mk
