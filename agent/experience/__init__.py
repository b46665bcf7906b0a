"""User-experience signals: responsiveness, boot, reliability, use, and the user's own rating.

``parsers`` holds pure functions over captured command output (tested on real
and schema-built samples in tests/fixtures); ``commands`` runs the OS tools
with a timeout and turns every failure into a reason; the sources in
:mod:`kitlife.agent.sources` put the two together.
"""
