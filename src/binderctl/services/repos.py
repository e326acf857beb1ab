"""Repositories as binderctl names them, and as BinderHub's repo providers see them.

``normalize_repo`` and ``repo_matches`` compare the repository URLs sessions carry
(``BINDER_REPO_URL``). ``ban_patterns`` turns a repository into the regular expressions
BinderHub's ``banned_specs`` take (binderhub ``binderhub/repoproviders.py``:
``RepoProvider.is_banned`` matches each with ``re.match(pattern, spec, re.IGNORECASE)``
against the launch's spec), one per repo provider that can launch it:

- ``GitHubRepoProvider`` (``/v2/gh/<owner>/<repo>/<ref>``): the spec is
  ``owner/repo/ref``; the provider strips a ``.git`` from the repo's name;
- ``GitLabRepoProvider`` (``/v2/gl/...``): ``<url-escaped namespace>/<ref>``;
- ``GitRepoProvider`` (``/v2/git/...``), which reaches any host, GitHub's and GitLab's
  too: ``<url-escaped URL>/<ref>``.

Each pattern matches that repository's specs, whatever the ref, and nothing else: not a
repository whose name only starts the same.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from binderctl.errors import UsageError
from binderctl.formatting import inert

GITHUB = "GitHubRepoProvider"
GITLAB = "GitLabRepoProvider"
GIT = "GitRepoProvider"
PROVIDERS = (GITHUB, GITLAB, GIT)
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]")
_SPECIAL = frozenset(".^$*+?{}[]\\|()")
_NAME = re.compile(r"[A-Za-z0-9._-]+")


def normalize_repo(url: str) -> str:
    """``https://GitHub.com/o/r.git/`` and ``github.com/o/r`` compare equal."""
    value = url.strip().lower()
    for prefix in ("https://", "http://", "git://", "www."):
        value = value.removeprefix(prefix)
    value = value.rstrip("/")
    return value.removesuffix(".git")


def repo_matches(wanted: str, repo: str) -> bool:
    """Exact repo match; ``org/repo`` without a host matches it on any host."""
    want, have = normalize_repo(wanted), normalize_repo(repo)
    if want == have:
        return True
    host_given = "." in want.split("/", 1)[0]
    return not host_given and "/" in have and have.split("/", 1)[1] == want


def repo_url(repo: str) -> str:
    """The repository's URL: ``org/repo`` is a GitHub one; a URL keeps its host and
    loses a trailing slash and ``.git``. A UsageError for anything else."""
    text = repo.strip()
    if "://" not in text:
        parts = text.strip("/").split("/")
        if len(parts) == 2 and all(_NAME.fullmatch(p) for p in parts):
            text = f"https://github.com/{text.strip('/')}"
        elif "." in parts[0] and len(parts) >= 3:
            text = f"https://{text}"
        else:
            raise UsageError(
                f"{inert(repo, 80)!r} is not a repository: give its URL "
                "(https://github.com/org/repo) or org/repo for GitHub"
            )
    split = urlsplit(text)
    path = split.path.strip("/").removesuffix(".git")
    segments = path.split("/") if path else []
    if split.scheme not in ("http", "https") or not split.hostname or len(segments) < 2:
        raise UsageError(
            f"{inert(repo, 80)!r} is not a repository URL such as https://github.com/org/repo"
        )
    if not all(_NAME.fullmatch(s) for s in segments):
        raise UsageError(f"{inert(repo, 80)!r}: unexpected characters in the repository's path")
    host = split.hostname.lower().removeprefix("www.")
    return f"https://{host}/{'/'.join(segments)}"


def _literal(text: str) -> str:
    """``text`` as a pattern that matches it: only what a pattern reads as syntax is
    escaped (a hyphen is not: the patterns stay readable in ``bans``)."""
    return "".join(f"\\{c}" if c in _SPECIAL else c for c in text)


def _escaped(text: str) -> str:
    """A pattern for ``text`` url-escaped or not (``/`` as ``/`` or ``%2F``)."""
    return "".join(
        _literal(c) if _UNRESERVED.fullmatch(c) else f"(?:{_literal(c)}|%{ord(c):02X})"
        for c in text
    )


def ban_patterns(repo: str) -> dict[str, str]:
    """Each repo provider that can launch ``repo`` -> the ``banned_specs`` pattern that
    matches its specs of that repository (any ref) and nothing else."""
    url = repo_url(repo)
    host, path = url.removeprefix("https://").split("/", 1)
    bare = f"{host}/{path}"
    patterns = {GIT: rf"^https?{_escaped('://')}(?:www\.)?{_escaped(bare)}(?:\.git)?/"}
    if host == "github.com":
        owner, name = path.split("/", 1)
        if "/" in name:
            raise UsageError(f"{inert(repo, 80)!r}: a GitHub repository is owner/name")
        patterns[GITHUB] = rf"^{_literal(owner)}/{_literal(name)}(?:\.git)?/"
    elif host == "gitlab.com":
        patterns[GITLAB] = rf"^{_escaped(path)}(?:\.git)?/"
    return {provider: patterns[provider] for provider in PROVIDERS if provider in patterns}
