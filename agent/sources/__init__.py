"""Sources: each gathers one kind of reading and returns a SourceResult, never raising."""
