"""Names as BinderHub and KubeSpawner derive them (ported from their sources).

- BinderHub (``builder.py``): ``_safe_build_slug``, ``_generate_build_name`` ->
  ``build-<slug>-<ref>`` pod names, and the image name ``<prefix><slug>:<ref>``.
- BinderHub (``launcher.py``): ``unique_name_from_repo`` -> temporary user names.
- KubeSpawner 7 (``slugs.py``): ``safe_slug`` -> ``jupyter-<user>`` pod names and the
  ``hub.jupyter.org/username`` label.
"""

from __future__ import annotations

import hashlib
import re
import string
from urllib.parse import urlparse

_SAFE = frozenset(string.ascii_letters + string.digits)
_ALPHA_LOWER = tuple(string.ascii_lowercase)
_ALNUM_LOWER = tuple(string.ascii_lowercase + string.digits)
_ALNUM = tuple(string.ascii_letters + string.digits)
_OBJECT = re.compile(r"^[a-z0-9\-]+$")
_LABEL = re.compile(r"^[a-z0-9\.\-_]+$", flags=re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
USER_SUFFIX_CHARS = string.ascii_lowercase + string.digits
USER_SUFFIX_LENGTH = 8


def escape(text: str, escape_char: str = "-") -> str:
    """escapism.escape with BinderHub's safe set (letters and digits)."""
    out = []
    for char in text:
        if char in _SAFE:
            out.append(char)
        else:
            out.extend(f"{escape_char}{byte:X}" for byte in char.encode())
    return "".join(out)


def safe_build_slug(build_slug: str, limit: int, hash_length: int = 6) -> str:
    digest = hashlib.sha256(build_slug.encode()).hexdigest()
    escaped = escape(build_slug)
    return f"{escaped[: limit - hash_length - 1]}-{digest[:hash_length]}".lower()


def build_name(build_slug: str, ref: str, prefix: str = "build-", ref_length: int = 6) -> str:
    slug = safe_build_slug(build_slug, limit=63 - len(prefix) - ref_length - 1)
    safe_ref = safe_build_slug(ref, limit=ref_length, hash_length=2)
    return f"{prefix}{slug}-{safe_ref[:ref_length]}".lower()


def image_name(image_prefix: str, build_slug: str, ref: str) -> str:
    slug = safe_build_slug(build_slug, limit=255 - len(image_prefix))
    return f"{image_prefix}{slug}:{ref}".replace("_", "-").lower()


def user_prefix(repo_url: str) -> str:
    """The part of ``unique_name_from_repo`` before the random suffix."""
    prefix = urlparse(repo_url).path.strip("/").replace("/", "-").lower()
    if prefix.endswith(".git"):
        prefix = prefix[:-4]
    if len(prefix) > 32:
        prefix = f"{prefix[:15]}-{prefix[-15:]}"
    return prefix


def _valid(text: str, pattern: re.Pattern[str], starts: tuple[str, ...], ends: tuple[str, ...],
           max_length: int) -> bool:  # fmt: skip
    return (
        0 < len(text) <= max_length
        and text.startswith(starts)
        and text.endswith(ends)
        and bool(pattern.match(text))
    )


def is_valid_object_name(text: str) -> bool:
    return _valid(text, _OBJECT, _ALPHA_LOWER, _ALNUM_LOWER, 63)


def is_valid_label(text: str) -> bool:
    return not text or _valid(text, _LABEL, _ALNUM, _ALNUM, 63)


def _strip_and_hash(name: str, max_length: int = 32) -> str:
    name_length = max_length - 11
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    safe = _NON_ALNUM.sub("-", name.lower()).lstrip("-")[:name_length].rstrip("-")
    if safe and not safe.startswith(_ALPHA_LOWER):
        safe = "x-" + safe[: name_length - 2]
    return f"{safe or 'x'}---{digest}"


def safe_slug(name: str, *, label: bool = False, max_length: int | None = None) -> str:
    valid = is_valid_label(name) if label else is_valid_object_name(name)
    if "--" in name or not valid or (max_length is not None and len(name) > max_length):
        return _strip_and_hash(name, max_length=max_length or 32)
    return name


def session_pod_name(username: str) -> str:
    return f"jupyter-{safe_slug(username, max_length=48)}"
