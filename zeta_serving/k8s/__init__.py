"""Kubernetes: manifests for the services and the maintenance loop (`zeta k8s render`)."""
