"""The county administrator's window and the first-run wizard.

``window.AdminWindow`` gathers the panels: progress (``reports``), accounts (``accounts``), the audit
log (``audit``), settings (``settings``) and the self-check (``selfcheck``). ``first_run`` is the
wizard ``station gui`` opens on a new machine; ``desk_hook`` puts the administration into the desk
window (its menu, the unsynced warning and the acknowledgement that lets capturing go on). The work
behind the widgets is ``station.admin`` (and ``station.services.health``); every store write runs on
the background operations' store lane.
"""
