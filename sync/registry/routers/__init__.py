"""The registry's routes, one ``APIRouter`` per area (FastAPI's "bigger applications" layout).

``stations`` (ping, certificate renewal), ``feed`` (approvals and their digest), ``batches`` (push),
``ledger`` (record status, ledger feed and digest), ``blobs`` (which photos are missing). Each route
states who may call it through ``dependencies.Caller`` / ``CountyCaller`` / ``StationCaller``.
"""
