"""Secrets the station keeps (the registry's CA, this station's certificate and its private key).

They live in their own table of the encrypted database, each value sealed with AES-GCM under a key
derived (HKDF-SHA256) from the database key, with the secret's name as associated data: a value
cannot be moved to another name, and a page of the database seen decrypted (a backup opened with
the key for a repair, say) still does not show the private key. A value written by migration 0003
(scheme ``plain``) is sealed the first time the store opens (``seal_plain``).
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine

from station.i18n import Text
from station.store import clock
from station.store.engine import read_transaction, write_transaction
from station.store.errors import StoreError
from station.store.models import secrets

SEALED = "aesgcm-v1"
PLAIN = "plain"
_NONCE = 12


def _sealing_key(database_key: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=b"capture-station secrets v1").derive(database_key)


class SecretRepository:
    def __init__(self, engine: Engine, database_key: bytes) -> None:
        self._engine = engine
        self._aead = AESGCM(_sealing_key(database_key))

    def put(self, values: dict[str, bytes]) -> None:
        """Store (or replace) several secrets in one transaction."""
        now = clock.iso(clock.utc_now())
        with write_transaction(self._engine) as conn:
            for name, value in values.items():
                conn.execute(secrets.delete().where(secrets.c.name == name))
                conn.execute(
                    secrets.insert().values(name=name, scheme=SEALED, value=self._seal(name, value), updated_at=now)
                )

    def get(self, name: str) -> bytes | None:
        with read_transaction(self._engine) as conn:
            row = conn.execute(sa.select(secrets).where(secrets.c.name == name)).first()
        if row is None:
            return None
        return bytes(row.value) if row.scheme == PLAIN else self._open(name, bytes(row.value))

    def delete(self, *names: str) -> None:
        with write_transaction(self._engine) as conn:
            conn.execute(secrets.delete().where(secrets.c.name.in_(names)))

    def seal_plain(self) -> int:
        """Seal values a migration stored in the clear; returns how many."""
        with write_transaction(self._engine) as conn:
            rows = conn.execute(sa.select(secrets).where(secrets.c.scheme == PLAIN)).all()
            for row in rows:
                conn.execute(
                    secrets.update()
                    .where(secrets.c.name == row.name)
                    .values(scheme=SEALED, value=self._seal(row.name, bytes(row.value)))
                )
        return len(rows)

    def _seal(self, name: str, value: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, value, name.encode())

    def _open(self, name: str, sealed: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], name.encode())
        except InvalidTag:
            raise StoreError(
                Text("保存的证书数据已损坏，无法使用。", "A stored credential is damaged and cannot be used."),
                code="secret_damaged",
                fix=Text("请重新导入登记文件（station enroll）。", "Import the enrollment file again (station enroll)."),
            ) from None
