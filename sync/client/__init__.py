"""The station's sync client: HTTP session, push/pull engine, reconciliation (docs/sync-protocol.md §3.4, §6-§9)."""
