"""Sources: each returns a SourceResult and never raises."""
