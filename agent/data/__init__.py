"""Data tables shipped with the agent (package so wheels carry the CSV)."""
