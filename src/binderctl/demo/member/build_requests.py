"""BinderHub's ``GET /build/<provider>/<spec>``: the EventSource stream a launch link
opens (binderhub ``binderhub/builder.py``, ``BuildHandler``).

The stream always answers HTTP 200 (an EventSource cannot read an error status): a
failure is an event ``{"phase": "failed", ...}`` and the end of the stream. In order:
the ``Accept`` header must name ``text/event-stream``; the provider prefix must be
known; the spec must parse (GitHub: ``owner/repo/ref``); a spec that one of the
provider's ``banned_specs`` matches is refused; the ref must resolve; then the launch
quota, and the launch itself (``launching``, then ``ready`` with the server's URL).
An image that is not built yet starts a build and the stream ends at ``waiting``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from binderctl.demo.member import naming
from binderctl.demo.member.repos import Launch
from binderctl.demo.member.sessions import GITHUB_PROVIDER, Hub

# BinderHub's prefixes and the provider classes whose banned_specs apply to them
PROVIDERS = {"gh": GITHUB_PROVIDER, "gl": "GitLabRepoProvider", "git": "GitRepoProvider"}
EVENT_STREAM = "text/event-stream"
Event = dict[str, Any]


def failed(message: str, status_code: int | None = None) -> Event:
    """``BuildHandler.fail`` (or ``send_error``, which also names the status code)."""
    event: Event = {"phase": "failed"}
    if status_code is not None:
        event["status_code"] = status_code
    event["message"] = message + "\n"
    return event


def tokenize_spec(spec: str) -> tuple[str, str, str]:
    """binderhub ``repoproviders.tokenize_spec``: ``user/repo/ref`` (ValueError else)."""
    parts = spec.split("/", 2)
    if len(parts) != 3:
        message = f'Spec is not of the form "user/repo/ref", provided: "{spec}".'
        if len(parts) == 2 and parts[-1] not in {"main", "master", "HEAD"}:
            message += f' Did you mean "{spec}/HEAD"?'
        raise ValueError(message)
    user, repo, ref = parts
    return user, repo.removesuffix(".git"), ref


def resolve(hub: Hub, owner: str, name: str, ref: str) -> Launch | None:
    """The launch of a repository the simulated GitHub knows, at ``ref`` (a commit it
    has, its default branch, or HEAD)."""
    for repo in hub.catalog.repos:
        if repo.owner.lower() == owner.lower() and repo.name.lower() == name.lower():
            if ref in repo.refs:
                return Launch(repo, ref, ref)
            if ref in ("HEAD", repo.branch):
                return Launch(repo, repo.refs[0], ref)
            return None
    return None


async def build_events(hub: Hub, prefix: str, raw_spec: str, accept: str) -> AsyncIterator[Event]:
    if "text/event-stream" not in {part.strip().lower() for part in accept.split(";")}:
        yield failed("Missing Accept header: text/event-stream", 400)
        return
    provider = PROVIDERS.get(prefix)
    if provider is None:
        yield failed(f"No provider found for prefix {prefix}")
        return
    spec = raw_spec.rstrip("/")
    key = f"{prefix}:{spec}"
    owner = name = ref = ""
    if prefix == "gh":
        try:
            owner, name, ref = tokenize_spec(spec)
        except ValueError as exc:
            yield failed(str(exc))
            return
    if hub.is_banned(provider, spec):
        message = f"Sorry, {spec} is not allowed to launch. Please contact admins for more info!"
        yield {"phase": "failed", "message": message}
        return
    launch = resolve(hub, owner, name, ref) if prefix == "gh" else None
    if launch is None:
        yield failed(
            f"Could not resolve ref for {key}. Double check your URL and that your repo is public."
        )
        return
    image = naming.image_name(hub.settings.image_prefix, launch.repo.build_slug, launch.ref)
    if not hub.quota_allows(launch):
        yield failed("Too many users on this BinderHub! Try again soon.")
        return
    if image not in hub.registry:
        if hub.build is not None:
            hub.build(launch, image, lambda ok: None)
        yield {"phase": "waiting", "message": "Waiting for build to start...\n"}
        return
    yield {"phase": "launching", "message": "Launching server...\n"}
    session = hub.launch(launch, image)
    if session is None:
        yield failed("Launch attempt failed")
        return
    while session.state == "spawning" and hub.sessions.get(session.pod) is session:
        await asyncio.sleep(0.05)
    if session.state != "running":
        yield failed(f"Error starting server for user {session.user}")
        return
    url = f"https://{hub.settings.hub_host}/user/{session.user}/"
    yield {"phase": "ready", "message": f"server running at {url}\n", "url": url, "image": image,
           "repo_url": launch.repo.url}  # fmt: skip
