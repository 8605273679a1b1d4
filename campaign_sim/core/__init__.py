"""Errors, configuration, run directories: the layer everything else builds on."""
