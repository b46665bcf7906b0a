"""Reports: plain data built from the store, rendered by the API, CLI and web pages."""
