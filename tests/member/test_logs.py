"""Container logs: believable lines, follow, previous, flood."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from binderctl.demo.member.logs import BUFFER_LINES, CEILING_BATCH
from binderctl.demo.member.simulation import Member
from tests.member.memberkit import log_text, pod_named, session_pods


def test_programs_print_what_they_print(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=2, cull_timeout=10**6, cull_max_age=10**6)
    member.advance(1)
    hub = log_text(member, pod_named(member, "hub-"), "hub")
    assert "JupyterHub app:3354] Running JupyterHub version 5.3.0" in hub
    chp = log_text(member, pod_named(member, "proxy-"), "chp")
    assert "[ConfigProxy] \x1b[32minfo\x1b[39m: Proxy API at http://*:8001/api/routes" in chp
    dind = log_text(member, pod_named(member, "binderhub-dind-"), "dind")
    assert 'level=info msg="API listen on /var/run/dind/docker.sock"' in dind
    session = session_pods(member)[0]
    notebook = log_text(member, session, "notebook")
    assert "ServerApp] Jupyter Server 2.15.0 is running at:" in notebook
    before = notebook.count("\n")
    member.advance(3600)
    assert log_text(member, session, "notebook").count("\n") > before + 20


async def test_follow_gets_new_lines(make_member: Callable[..., Member]) -> None:
    member = make_member(sessions=1)
    member.advance(1)
    meta = session_pods(member)[0]["metadata"]
    stream = member.logs.follow(meta["namespace"], meta["name"], "notebook")
    member.advance(600)
    first = await asyncio.wait_for(anext(stream), 5)
    assert "ServerApp]" in first.text
    member.logs.stop(meta["namespace"], meta["name"], "notebook")
    rest = [line async for line in stream]
    assert all("ServerApp]" in line.text for line in rest)


def test_flood_and_previous(make_member: Callable[..., Member]) -> None:
    member = make_member()
    member.advance(1)
    proxy = pod_named(member, "proxy-")["metadata"]["name"]
    member.flood_logs("binderhub", proxy, "chp", 50_000)
    member.advance(1000 * 0.2)  # 0.2 s of real time at speed 1000
    lines = member.logs.lines("binderhub", proxy, "chp", False)
    assert sum("flood line" in line.text for line in lines) >= 5000
    member.logs.start("binderhub", proxy, "chp")
    previous = member.logs.lines("binderhub", proxy, "chp", True)
    assert any("flood line" in line.text for line in previous)
    assert list(member.logs.lines("binderhub", proxy, "chp", False)) == []


async def test_a_flood_without_a_rate_keeps_up_with_its_reader(
    make_member: Callable[..., Member],
) -> None:
    """No simulated time passes, yet lines come as long as someone reads; every follower
    gets the same lines, and the kept log stays bounded."""
    member = make_member()
    member.advance(1)
    proxy = pod_named(member, "proxy-")["metadata"]["name"]
    member.flood_logs("binderhub", proxy, "chp", None)
    fast = member.logs.follow("binderhub", proxy, "chp")
    slow = member.logs.follow("binderhub", proxy, "chp")
    read = [(await anext(fast)).text for _ in range(6 * CEILING_BATCH + 1)]
    assert all(text.startswith("flood line ") for text in read)
    assert [int(text.split()[2]) for text in read] == list(range(1, 6 * CEILING_BATCH + 2))
    assert (await anext(slow)).text == read[0]
    assert len(member.logs.lines("binderhub", proxy, "chp", False)) == BUFFER_LINES
    member.logs.stop("binderhub", proxy, "chp")
    assert len([line async for line in fast]) == CEILING_BATCH - 1  # the last batch, then the end
