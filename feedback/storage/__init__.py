"""Storage: connections, the one way to write, and the schema's migrations."""
