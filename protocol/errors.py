"""The protocol's one exception."""


class ProtocolError(ValueError):
    """A batch that cannot be accepted.

    ``reason`` is one line, safe to send back to the agent; ``status`` is the
    HTTP status a server should answer with: 400 malformed, 413 too large,
    415 unsupported wire version.
    """

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
