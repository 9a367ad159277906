# The systemd unit for shuttled.
systemdunitdir = $(prefix)/lib/systemd/system
systemdunit_DATA = dist/shuttled.service
CLEANFILES += dist/shuttled.service
EXTRA_DIST += dist/shuttled.service.in
dist/shuttled.service: $(srcdir)/dist/shuttled.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dist && sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@bindir[@]|$(bindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(srcdir)/dist/shuttled.service.in > $@.tmp && mv $@.tmp $@

# The default policy: /etc/shuttle/policy.yaml (the unit's --policy),
# installed only where there is none, so that `make install` never
# overwrites an operator's policy; the shipped one is also kept as
# $(pkgdatadir)/default.yaml to compare with.  Uninstall removes it only if
# it is still the shipped one.
shuttlepolicydir = $(sysconfdir)/shuttle
dist_pkgdata_DATA = policies/default.yaml

install-data-hook:
	$(MKDIR_P) '$(DESTDIR)$(shuttlepolicydir)'
	@if test -e '$(DESTDIR)$(shuttlepolicydir)/policy.yaml'; then \
	  echo "$(shuttlepolicydir)/policy.yaml exists, left as it is (the shipped one: $(pkgdatadir)/default.yaml)"; \
	else \
	  echo " $(INSTALL_DATA) policies/default.yaml '$(DESTDIR)$(shuttlepolicydir)/policy.yaml'"; \
	  $(INSTALL_DATA) $(srcdir)/policies/default.yaml '$(DESTDIR)$(shuttlepolicydir)/policy.yaml'; \
	fi

uninstall-hook:
	@if cmp -s $(srcdir)/policies/default.yaml '$(DESTDIR)$(shuttlepolicydir)/policy.yaml'; then \
	  rm -f '$(DESTDIR)$(shuttlepolicydir)/policy.yaml'; \
	fi
	-rmdir '$(DESTDIR)$(shuttlepolicydir)' 2>/dev/null
	rm -f '$(DESTDIR)$(libdir)/libshuttle.so' '$(DESTDIR)$(libdir)'/libshuttle.so.[0-9]* \
	  '$(DESTDIR)$(pkglibdir)/libshuttle-shim.so'

# No libtool archives (.la) are installed, as Debian packages do: nothing
# links these libraries through libtool (libshuttle has its pkg-config
# file, the shim is preloaded).  So uninstall-hook above removes what
# libtool's uninstall would have found through them.
install-exec-hook:
	rm -f '$(DESTDIR)$(libdir)/libshuttle.la' '$(DESTDIR)$(pkglibdir)/libshuttle-shim.la'
