"""Client events: upstream requests through the receiver onto the events queue (``run``)."""
