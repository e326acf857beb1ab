"""Versions that match the prime: the BinderHub chart version and ``build_image``.

The federation redirector drops a member whose ``/versions`` differs from the prime's
(jupyterhub/mybinder.org-deploy ``images/federation-redirect/app.py`` ``health_check``,
95860dbc). BinderHub's ``/versions`` is ``{"builder_info": {"build_image": ...},
"binderhub": <version>, "builder": <build_image>}`` (jupyterhub/binderhub
``binderhub/base.py`` ``VersionHandler``, ``binderhub/build.py`` ``builder_info``,
b9fad995), so a member matches the prime when it runs the same BinderHub build and the
same ``KubernetesBuildExecutor.build_image``.

How a chart version names a BinderHub build: chartpress publishes the chart as
``<baseVersion>.git.<N>.h<hash>`` (``helm-chart/chartpress.yaml`` ``baseVersion:
1.0.0-0.dev``), N counting every commit of the branch (chartpress
``_get_identifier_from_paths``: ``git rev-list --count``), and versioneer (``setup.cfg``,
``style = pep440``) versions the package in the image ``<tag>+<D>.g<hash>``, D counting
the commits since the tag (``git describe --tags --long``). The same commit: N = D + the
commits up to the tag. A released chart ``X.Y.Z`` carries BinderHub ``X.Y.Z``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from binderctl.config import MemberConfig
from binderctl.federation_config import FederationConfig
from binderctl.services.json_fetch import fetch_object

# jupyterhub/binderhub helm-chart/chartpress.yaml (b9fad995)
CHART_BASE_VERSION = "1.0.0-0.dev"
# the newest BinderHub tag at jupyterhub/binderhub b9fad995 (`git describe`: 0.2.0-2227-g...)
BINDERHUB_TAG = "0.2.0"
# `git rev-list --count 0.2.0` in jupyterhub/binderhub (b9fad995: 3959 commits in all,
# 2227 since the tag)
COMMITS_UP_TO_TAG = 1732
# Fallbacks when the prime cannot be read, with where they come from.
PINNED_CHART_VERSION = "1.0.0-0.dev.git.3983.h383374de"
PINNED_CHART_SOURCE = "jupyterhub/mybinder.org-deploy mybinder/Chart.yaml at 95860dbc"
PINNED_BUILD_IMAGE = "quay.io/jupyterhub/repo2docker:2026.4.1.dev44-g97bb4e45a"
PINNED_BUILD_IMAGE_SOURCE = (
    "jupyterhub/mybinder.org-deploy mybinder/values.yaml "
    "(binderhub.config.KubernetesBuildExecutor.build_image) at 95860dbc"
)
VERSIONS_TIMEOUT = 5.0  # the redirector's check timeout (mybinder/values.yaml)

_DEV_CHART = re.compile(r"(?P<base>.+)\.git\.(?P<n>[0-9]+)\.h(?P<hash>[0-9a-f]{7,40})")
_DEV_PACKAGE = re.compile(r"(?P<tag>[0-9][^+]*)\+(?P<n>[0-9]+)\.g(?P<hash>[0-9a-f]{7,40})")
_RELEASE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")


def chart_version_for(binderhub: str) -> str | None:
    """The chart version that installs BinderHub ``binderhub`` (as ``/versions`` says it),
    or None when the version is not one chartpress or a release produces."""
    if _RELEASE.fullmatch(binderhub):
        return binderhub
    match = _DEV_PACKAGE.fullmatch(binderhub)
    if match is None:
        return None
    return f"{CHART_BASE_VERSION}.git.{int(match['n']) + COMMITS_UP_TO_TAG}.h{match['hash']}"


def binderhub_version_for(chart_version: str) -> str | None:
    """What ``/versions`` reports as ``binderhub`` for a member running this chart."""
    if _RELEASE.fullmatch(chart_version):
        return chart_version
    match = _DEV_CHART.fullmatch(chart_version)
    if match is None:
        return None
    since_tag = int(match["n"]) - COMMITS_UP_TO_TAG
    if since_tag < 0:
        return None
    return f"{BINDERHUB_TAG}+{since_tag}.g{match['hash']}"


def versions_for(chart_version: str, build_image: str) -> dict[str, Any]:
    """``/versions`` of a BinderHub installed from ``chart_version`` with ``build_image``."""
    return {
        "builder_info": {"build_image": build_image},
        "binderhub": binderhub_version_for(chart_version) or chart_version,
        "builder": build_image,
    }


def differences(ours: Any, prime: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Each key (dotted) whose value differs, with ours and the prime's; the redirector
    compares the whole documents."""
    if isinstance(ours, dict) and isinstance(prime, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in sorted(set(ours) | set(prime), key=str):
            name = f"{prefix}{key}"
            if key not in ours:
                found.append((name, None, prime[key]))
            elif key not in prime:
                found.append((name, ours[key], None))
            else:
                found += differences(ours[key], prime[key], f"{name}.")
        return found
    return [] if ours == prime else [(prefix.rstrip(".") or "versions", ours, prime)]


def describe(diffs: list[tuple[str, Any, Any]], limit: int = 3) -> str:
    """``key: ours X, prime Y`` for the first few differences (``builder``, the
    backwards-compatible copy of ``builder_info.build_image``, only when it alone differs)."""
    copies = {(ours, prime) for key, ours, prime in diffs if key == "builder_info.build_image"}
    diffs = [d for d in diffs if not (d[0] == "builder" and (d[1], d[2]) in copies)]
    shown = [f"{key}: ours {ours!r}, prime {prime!r}" for key, ours, prime in diffs[:limit]]
    more = len(diffs) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def fetch_versions(url: str, timeout: float = VERSIONS_TIMEOUT) -> dict[str, Any]:
    """GET a ``/versions`` document; ValueError saying why it could not be read."""
    return fetch_object(url, timeout)


@dataclass(frozen=True)
class Pins:
    """What the member installs, where each value came from, and what to warn about."""

    chart_version: str
    chart_source: str
    build_image: str
    build_image_source: str
    prime_versions: dict[str, Any] | None
    warnings: tuple[str, ...] = ()

    def apply(self, member: MemberConfig) -> MemberConfig:
        return replace(
            member, binderhub_chart_version=self.chart_version, build_image=self.build_image
        )


def resolve(member: MemberConfig, federation: FederationConfig) -> Pins:
    """The chart version and build_image: the config's, else the prime's, else the pinned
    fallbacks; warns (key and both values) wherever they differ from the prime's."""
    url = federation.prime_versions_url
    warnings: list[str] = []
    prime: dict[str, Any] | None = None
    try:
        prime = fetch_versions(url, federation.check.timeout)
    except ValueError as exc:
        warnings.append(f"cannot read the prime's versions ({exc}): using the pinned fallbacks")
    prime_image = None
    prime_chart = None
    if prime is not None:
        info = prime.get("builder_info")
        image = info.get("build_image") if isinstance(info, dict) else None
        prime_image = image if isinstance(image, str) and image else None
        binderhub = prime.get("binderhub")
        prime_chart = chart_version_for(binderhub) if isinstance(binderhub, str) else None
        if prime_image is None:
            warnings.append(f"{url} has no builder_info.build_image: using the pinned one")
        if prime_chart is None:
            warnings.append(
                f"no chart version can be derived from the prime's binderhub {binderhub!r} "
                "(expected like 0.2.0+2251.g383374de): using the pinned one; set "
                "binderhub_chart_version in the config"
            )
    chart, chart_source = _choose(
        "binderhub_chart_version", member.binderhub_chart_version, prime_chart,
        (PINNED_CHART_VERSION, PINNED_CHART_SOURCE), url, warnings,
    )  # fmt: skip
    image, image_source = _choose(
        "build_image", member.build_image, prime_image,
        (PINNED_BUILD_IMAGE, PINNED_BUILD_IMAGE_SOURCE), url, warnings,
    )  # fmt: skip
    return Pins(chart, chart_source, image, image_source, prime, tuple(warnings))


def _choose(
    key: str,
    configured: str,
    from_prime: str | None,
    pinned: tuple[str, str],
    url: str,
    warnings: list[str],
) -> tuple[str, str]:
    if configured:
        if from_prime is not None and configured != from_prime:
            warnings.append(
                f"{key} differs from the prime: ours {configured!r} (config), prime "
                f"{from_prime!r} ({url}); the redirector keeps the member out of rotation"
            )
        return configured, "config"
    if from_prime is not None:
        return from_prime, url
    return pinned
