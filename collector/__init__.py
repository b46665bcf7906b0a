"""kitlife collector: stores, scores and reports on what the agents send."""
