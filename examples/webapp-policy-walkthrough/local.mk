# The policy walkthrough: the webapp's programs (examples/webapp) under a
# policy written from scratch (README.md; tests/integration/learn.sh).
EXTRA_DIST += examples/webapp-policy-walkthrough/README.md examples/webapp-policy-walkthrough/group.yaml \
	examples/webapp-policy-walkthrough/policy.yaml examples/webapp-policy-walkthrough/policy-empty.yaml
