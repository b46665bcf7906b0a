"""``python -m kitlife.installers``: the ``package`` command without the collector's CLI."""

from kitlife.installers.cli import package

package()
