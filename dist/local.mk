# The systemd unit for shuttled.
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = dist/shuttled.service
CLEANFILES += dist/shuttled.service
EXTRA_DIST += dist/shuttled.service.in
dist/shuttled.service: $(srcdir)/dist/shuttled.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@bindir[@]|$(bindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/dist/shuttled.service.in > $@.tmp && mv $@.tmp $@
