"""The station's side of sync, without Qt: the engine's store port over the encrypted database, the
registry credentials, the engine built from the settings, and what its outcomes mean to an officer.

The command line (``station sync``) and the desk's background sync (``station.services``) both build
their engine here (``station.app`` wires it), so they send the same bytes under the same lock.
"""
