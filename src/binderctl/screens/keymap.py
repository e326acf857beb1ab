"""Every key, screen and action of the console, as data.

The app's bindings, the footer, the help screen, the command palette and the `:` command
line are all built from these tables, so a key is defined in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    name: str  # the mode name and the `:` command
    title: str
    module: str  # binderctl.screens.<module>
    cls: str
    help: str


@dataclass(frozen=True)
class ActionSpec:
    key: str  # "" for actions only in the palette and on the `:` line
    name: str  # the `:` command
    title: str
    help: str
    targets: tuple[str, ...] = ()  # when non-empty the action asks which one


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("1", "dashboard", "Dashboard", "dashboard", "DashboardScreen", "node, health"),
    ScreenSpec("2", "sessions", "Sessions", "sessions", "SessionsScreen", "running sessions"),
    ScreenSpec("3", "builds", "Builds", "builds", "BuildsScreen", "image builds"),
    ScreenSpec("4", "resources", "Resources", "resources", "ResourcesScreen", "history plots"),
    ScreenSpec("5", "logs", "Logs", "logs", "LogsScreen", "follow a component or pod"),
    ScreenSpec("6", "events", "Events", "events", "EventsScreen", "warnings first"),
    ScreenSpec("7", "budget", "Budget", "budget", "BudgetScreen", "month to date vs cap"),
    ScreenSpec("8", "provision", "Provision", "provision", "ProvisionScreen", "config, plan, run"),
    ScreenSpec(
        "9",
        "federation",
        "Federation",
        "federation",
        "FederationScreen",
        "every host as the redirector sees it",
    ),
)

RESTART_TARGETS: tuple[str, ...] = ("hub", "binder", "proxy", "dind")

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("D", "drain", "Drain", "launch quota 0, until BinderHub reports it"),
    ActionSpec("U", "resume", "Resume", "uncordon, restore the quota until BinderHub reports it"),
    ActionSpec("r", "restart", "Restart", "restart a component", RESTART_TARGETS),
    ActionSpec("P", "prune", "Prune images", "remove unused images on the node"),
    ActionSpec("", "reboot", "Reboot server", "soft reboot through the Hetzner API"),
    ActionSpec("", "renew-certs", "Renew certificates", "rotate k3s certificates, new kubeconfig"),
)


def _screen_binding(spec: ScreenSpec) -> Binding:
    """The footer shows the first screen's key as "1-9 Screens" and hides the others."""
    first, last = SCREENS[0], SCREENS[-1]
    if spec is not first:
        return Binding(spec.key, f"app.show('{spec.name}')", spec.title, show=False)
    return Binding(
        spec.key,
        f"app.show('{spec.name}')",
        "Screens",
        key_display=f"{first.key}-{last.key}",
        tooltip=", ".join(f"{s.key} {s.title}" for s in SCREENS),
    )


GLOBAL_BINDINGS: list[Binding] = [
    *(_screen_binding(s) for s in SCREENS),
    *(Binding(a.key, f"app.act('{a.name}')", a.title) for a in ACTIONS if a.key),
    Binding("colon", "app.command_line", "Command", key_display=":"),
    Binding("question_mark", "app.help", "Help", key_display="?"),
    Binding("q", "app.quit", "Quit"),
]

TABLE_BINDINGS: list[Binding] = [
    Binding("slash", "filter", "Filter", key_display="/"),
    Binding("escape", "clear_or_back", "Clear/back", show=False, key_display="esc"),
    Binding("l", "logs", "Logs"),
    Binding("space", "mark", "Mark", show=False),
    Binding("ctrl+d", "delete", "Kill/delete"),
    Binding("s", "sort", "Sort"),
]

LOG_BINDINGS: list[Binding] = [
    Binding("f", "follow", "Follow/pause"),
    Binding("t", "timestamps", "Timestamps"),
    Binding("w", "wrap", "Wrap"),
    Binding("slash", "filter", "Filter", key_display="/"),
    Binding("escape", "clear_filter", "Clear filter", show=False, key_display="esc"),
    Binding("p", "pick", "Pick source"),
    Binding("ctrl+s", "save", "Save"),
]


BUDGET_BINDINGS: list[Binding] = [
    Binding("g", "reload", "Reload", tooltip="fetch prices and resources again"),
]

FEDERATION_BINDINGS: list[Binding] = [
    Binding("g", "reload", "Reload", tooltip="check every host again now"),
    Binding("enter", "open", "Open member", tooltip="switch the console to this member"),
]

PROVISION_BINDINGS: list[Binding] = [
    Binding("ctrl+s", "save", "Save", tooltip="validate the form and write the config file"),
    Binding("ctrl+l", "plan", "Plan", tooltip="what provisioning would create (dry run)"),
    Binding("ctrl+r", "provision", "Provision", tooltip="run the pipeline (asks first)"),
]

# In a form field printable keys type (a hostname may hold a q or a 1), so these show
# in the footer there: the way back to the screen's keys, and a quit that still works.
FIELD_BINDINGS: list[Binding] = [
    Binding(
        "escape",
        "leave",
        "Leave field",
        key_display="esc",
        tooltip="leave the form field: q, 1-9 and the other keys work again",
    ),
    Binding("ctrl+q", "app.quit", "Quit", priority=True, tooltip="quit, even from a form field"),
]


def screen_spec(name: str) -> ScreenSpec | None:
    return next((s for s in SCREENS if s.name == name), None)


def action_spec(name: str) -> ActionSpec | None:
    return next((a for a in ACTIONS if a.name == name), None)
