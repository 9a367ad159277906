# OCI images and bundles as a container's root (shuttlectl run --rootfs):
# what the argument names and what of an image's JSON a run uses
# (image.c, pure), the unpacked roots under <state>/images/ (image-store.c,
# which runs umoci).
libshuttle_runtime_la_SOURCES += \
	src/runtime/image.h \
	src/runtime/image.c \
	src/runtime/image-store.c \
	src/runtime/image-apply.c
