"""The station's sync client: HTTP session, push/pull engine, reconciliation (sync-protocol.md §2.6-2.10)."""
