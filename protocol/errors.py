"""The protocol's one exception."""


class ProtocolError(ValueError):
    """A batch that cannot be accepted.

    ``reason`` is one line, safe to send back to the agent; ``status`` is the
    HTTP status a server should answer with: 400 malformed, 413 too large,
    415 unsupported wire version. ``limit`` names the :class:`Limits` field a
    413 broke (``"max_decompressed_bytes"`` ...), "" otherwise: a server that
    decodes with a small inline limit first knows, without reading the
    reason, when to retry with the full one off its event loop.
    """

    def __init__(self, reason: str, status: int = 400, limit: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.limit = limit
