"""Test helpers shared by every lane: stand-ins, bindings, waiting, the Bicep model."""
