"""What a running collector needs besides its routes: settings (read once at start),
the group-commit writer, the background rescorer and job scheduler, metrics and logs.

Sits under the API and over the reports and the store.
"""
