# runtime/image.c and image-apply.c: what --rootfs names, index.json's
# manifest, what of an image config a run takes.
check_PROGRAMS += tests/unit/test-image
TESTS += tests/unit/test-image
tests_unit_test_image_SOURCES = tests/unit/test-image.c
tests_unit_test_image_CFLAGS = $(TEST_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_image_LDADD = libshuttle-runtime.la libshuttle-common.la $(JANSSON_LIBS) $(TEST_LIBS)
