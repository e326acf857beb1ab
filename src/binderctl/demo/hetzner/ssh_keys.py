"""SSH keys of the emulated project, matched by their MD5 fingerprint."""

from __future__ import annotations

from typing import Any

from binderctl.demo.hetzner import body as read
from binderctl.demo.hetzner.core import ProjectCore
from binderctl.demo.hetzner.errors import invalid_input, uniqueness
from binderctl.demo.hetzner.resources import SshKey
from binderctl.parsing import ssh_fingerprint


class SshKeyOps(ProjectCore):
    def create_ssh_key(self, data: dict[str, Any]) -> dict[str, Any]:
        name = read.resource_name(data)
        public_key = read.string(data, "public_key").strip()
        try:
            fingerprint = ssh_fingerprint(public_key)
        except ValueError as exc:
            raise invalid_input("public_key", f"invalid SSH key: {exc}") from None
        labels = read.labels(data)
        if any(k.name == name for k in self.ssh_keys.values()):
            raise uniqueness("name", "SSH key name is already used")
        if any(k.fingerprint == fingerprint for k in self.ssh_keys.values()):
            raise uniqueness("public_key", "SSH key with the same fingerprint already exists")
        key = SshKey(next(self._ids), name or "", public_key, fingerprint, labels)
        self.ssh_keys[key.id] = key
        return {"ssh_key": key.to_json()}

    def update_ssh_key(self, key: SshKey, data: dict[str, Any]) -> dict[str, Any]:
        name = read.resource_name(data, required=False)
        if name is not None:
            if any(k.name == name and k is not key for k in self.ssh_keys.values()):
                raise uniqueness("name", "SSH key name is already used")
            key.name = name
        key.labels = read.labels(data, default=key.labels)
        return {"ssh_key": key.to_json()}

    def delete_ssh_key(self, key: SshKey) -> None:
        del self.ssh_keys[key.id]
