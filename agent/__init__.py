"""The kitlife laptop agent: gathers device health, spools it, uploads it.

It reports facts with units and reasons; it holds no policy. The resident loop
imports only what sampling and spooling need; uploads and slow probes run in
short-lived child processes (see docs/architecture.md).
"""

from kitlife import __version__

__all__ = ["__version__"]
