"""County administration over an opened station, without Qt: what the administrator's window and the
administrator's commands both do.

* ``common`` — who may administer (county administrators only) and how times are shown;
* ``accounts`` — officers: add, disable, enable, unlock, reset a password;
* ``audit_view`` — the audit log in words, and the check of its hash chain;
* ``reports`` — progress per school and class, the CSV export, sign-off sheets and receipts;
* ``settings`` — a validated, versioned, audited change of the station's settings;
* ``backlog`` — captures waiting too long for the registry, and the administrator's acknowledgement;
* ``retention`` — the purge of personal data after the registry confirmed a record;
* ``setup`` — the first run: a new station from an enrollment file (or the demo) with its first
  county administrator.

Everything here reaches the store through the composition root's ``StationApp``; every disclosure
of personal data and every change is audited in the store, in the same transaction.
"""
