"""Whether JupyterHub can start with the chart's hub config: its authenticator class.

JupyterHub resolves ``JupyterHub.authenticator_class`` through ``EntryPointType``
(jupyterhub/jupyterhub ``jupyterhub/traitlets.py``): a name registered in the
``jupyterhub.authenticators`` entry-point group, else an importable ``module.Class``;
anything else fails traitlets' ``Type`` validation and the hub exits at start. The names
and packages are those the z2jh hub image installs.
"""

from __future__ import annotations

from typing import Any

from binderctl.demo.member.charts import get

# jupyterhub/jupyterhub pyproject.toml (2841153d) and jupyterhub/oauthenticator
# pyproject.toml (7d80b00), [project.entry-points."jupyterhub.authenticators"]
ENTRY_POINTS = frozenset(
    {"default", "pam", "dummy", "shared-password", "null"}
    | {
        f"{local}{name}"
        for name in ("auth0", "azuread", "bitbucket", "cilogon", "generic-oauth", "github",
                     "gitlab", "globus", "google", "openshift")
        for local in ("", "local-")
    }
    | {"mediawiki"}
)  # fmt: skip
# jupyterhub/zero-to-jupyterhub-k8s images/hub/unfrozen/requirements.txt (48ea50e3)
HUB_IMAGE_PACKAGES = frozenset(
    {"jupyterhub", "kubespawner", "firstuseauthenticator", "hmacauthenticator",
     "ldapauthenticator", "ltiauthenticator", "nativeauthenticator", "tmpauthenticator",
     "oauthenticator"}
)  # fmt: skip
DEFAULT_AUTHENTICATOR = "null"  # jupyterhub/binderhub helm-chart/binderhub/values.yaml


def authenticator_error(values: dict[str, Any]) -> str | None:
    """The hub's fatal error for the release's values, or None when it starts."""
    path = "jupyterhub.hub.config.JupyterHub.authenticator_class"
    value = get(values, path) or DEFAULT_AUTHENTICATOR
    name = str(value)
    if name.lower() in ENTRY_POINTS:
        return None
    module, _, cls = name.rpartition(".")
    if module and cls and module.split(".")[0] in HUB_IMAGE_PACKAGES:
        return None
    return (
        "traitlets.traitlets.TraitError: The 'authenticator_class' trait of a JupyterHub "
        f"instance expected a subclass of 'jupyterhub.auth.Authenticator', but {name!r} "
        "could not be imported"
    )
