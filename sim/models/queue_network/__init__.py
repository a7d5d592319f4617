"""The verification model: an open queueing network defined wholly in config."""
