# The Kubernetes example: node configuration and manifests, no programs
# (docs/KUBERNETES.md; tests/integration/oci-containerd.sh parses the YAML).
EXTRA_DIST += examples/kubernetes/README.md examples/kubernetes/runtimeclass.yaml \
	examples/kubernetes/containerd-shuttle.toml examples/kubernetes/crio-shuttle.conf \
	examples/kubernetes/shuttle-oci-wrapper.sh examples/kubernetes/shuttled-daemonset.yaml \
	examples/kubernetes/pod-echo-server.yaml examples/kubernetes/pod-echo-client.yaml \
	examples/kubernetes/pod-intruder.yaml examples/kubernetes/admission-policy.yaml
