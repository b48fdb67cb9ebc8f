"""Batches: over HTTP (``http``) and on the commands queue (``queue``) against single commands."""
