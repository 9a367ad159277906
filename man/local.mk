# Manual pages.
dist_man_MANS += man/shuttlectl.1 man/shuttled.8
include man/policy.mk
dist_man_MANS += man/shuttle-group.5
dist_man_MANS += man/shuttle-shim.7
dist_man_MANS += man/libshuttle.3
dist_man_MANS += man/shuttle-name.1
dist_man_MANS += man/shuttle-invoke.1
dist_man_MANS += man/shuttle-transfer.1
dist_man_MANS += man/shuttle-connect.1
dist_man_MANS += man/shuttle-oci.8
