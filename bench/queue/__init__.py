"""The commands queue: throughput through the local host against a bare queue function (``throughput``)."""
