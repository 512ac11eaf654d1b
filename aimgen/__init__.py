"""aimgen: an ahead-of-time compiler from AIMService specs to GitOps-ready Kubernetes manifests."""

__version__ = "0.1.0"
