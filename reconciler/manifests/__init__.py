"""Manifests: YAML files declaring merchants, loaded into `model.DesiredState`."""
