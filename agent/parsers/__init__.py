"""Pure parsers: command or file text in, a dataclass out, :class:`ParseError` on junk."""
