"""codat-reconciler: converge Codat Sync for Commerce to merchant manifests kept in Git."""

__version__ = "0.2.0"
