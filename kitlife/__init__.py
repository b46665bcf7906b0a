"""kitlife: keep, repair or redeploy laptops when their own data says so.

``kitlife.agent`` runs on the laptop, ``kitlife.protocol`` is the wire format
both sides share, ``kitlife.collector`` stores, scores and reports.
"""

__version__ = "0.1.0"
