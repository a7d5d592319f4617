"""Configuration: structured-config schemas, value checks and the config directory."""
