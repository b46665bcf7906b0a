"""kitlife's installers: one service description, and the packages built from it.

``kitlife package --type deb|msi|pkg`` (:mod:`kitlife.installers.cli`) wraps a
frozen agent build (:mod:`kitlife.installers.freeze`) with the collector's URL,
an enrolment token and an optional CA, so a silent install enrols by itself.
The service definitions of every OS are generated from
:mod:`kitlife.installers.service`. docs/install.md says how to deploy them.
"""
