# The mail-viewer example's viewer (copied into examples/mail-viewer/bin to run).
noinst_PROGRAMS += examples/mail-viewer/pdfview
examples_mail_viewer_pdfview_SOURCES = examples/mail-viewer/pdfview.c
EXTRA_DIST += examples/mail-viewer/group.yaml examples/mail-viewer/policy.yaml \
	examples/mail-viewer/README.md examples/mail-viewer/invoice.pdf
