"""BinderHub's /health and /versions and the hub's /hub/api/health over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import aiohttp

from binderctl.demo.kube import types
from binderctl.demo.member.simulation import Member
from tests.member.memberkit import pod_named, serving


async def _get(port: int, host: str, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}", headers={"Host": host}) as answer,
    ):
        return answer.status, await answer.text()


async def test_health_versions_and_hub_health(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=12, quota=300)
    member.advance(1)
    async with serving(member) as port:
        status, body = await _get(port, "binder.example.org", "/health")
        assert status == 200
        document = json.loads(body)
        assert document == {
            "ok": True,
            "checks": [
                {"service": "Docker registry", "ok": True},
                {"service": "JupyterHub API", "ok": True},
                {
                    "service": "Pod quota",
                    "total_pods": 12,
                    "build_pods": 0,
                    "user_pods": 12,
                    "quota": 300,
                    "ok": True,
                    "_ignore_failure": True,
                },
            ],
        }
        status, body = await _get(port, "binder.example.org", "/versions")
        assert status == 200
        versions = json.loads(body)
        assert versions["builder_info"]["build_image"].startswith("quay.io/jupyterhub/repo2docker:")
        assert versions["binderhub"] == member.binderhub_version
        assert (await _get(port, "hub.binder.example.org", "/hub/api/health"))[0] == 200
        assert (await _get(port, "elsewhere.example.org", "/health"))[0] == 404

        hub = pod_named(member, "hub-")
        member.store.delete(types.PODS, "binderhub", hub["metadata"]["name"])
        member.advance(1)
        status, body = await _get(port, "binder.example.org", "/health")
        assert status == 503
        checks = {c["service"]: c["ok"] for c in json.loads(body)["checks"]}
        assert checks == {"Docker registry": True, "JupyterHub API": False, "Pod quota": True}
        assert (await _get(port, "hub.binder.example.org", "/hub/api/health"))[0] == 503


async def test_over_quota_is_not_unhealthy(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=4, quota=3)
    member.advance(1)
    async with serving(member) as port:
        status, body = await _get(port, "binder.example.org", "/health")
        document = json.loads(body)
        assert status == 200 and document["ok"] is True
        assert document["checks"][2]["ok"] is False
        member.faults.registry_down = True
        assert (await _get(port, "binder.example.org", "/health"))[0] == 503
