"""Every key and screen of the console, as data; the actions and their keys come from
the action catalogue (``services/catalogue.py``).

The app's bindings, the footer, the help screen, the command palette and the `:` command
line are all built from these tables and the catalogue, so a key is defined in exactly
one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from binderctl.models import COMPONENTS
from binderctl.services import catalogue


@dataclass(frozen=True)
class ScreenSpec:
    key: str
    name: str  # the mode name and the `:` command
    title: str
    module: str  # binderctl.screens.<module>
    cls: str
    help: str
    argument: str = ""  # what `:name ARGUMENT` gives the screen: "filter", "source"


SCREENS: tuple[ScreenSpec, ...] = (
    ScreenSpec("1", "dashboard", "Dashboard", "dashboard", "DashboardScreen", "node, health"),
    ScreenSpec(
        "2", "sessions", "Sessions", "sessions", "SessionsScreen", "running sessions", "filter"
    ),
    ScreenSpec(
        "a", "abuse", "Abuse", "abuse", "AbuseScreen", "sessions ranked by suspicion", "filter"
    ),
    ScreenSpec("3", "builds", "Builds", "builds", "BuildsScreen", "image builds", "filter"),
    ScreenSpec("4", "resources", "Resources", "resources", "ResourcesScreen", "history plots"),
    ScreenSpec("5", "logs", "Logs", "logs", "LogsScreen", "follow a component or pod", "source"),
    ScreenSpec("6", "events", "Events", "events", "EventsScreen", "warnings first", "filter"),
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
    # no key of its own: the palette and `:upgrade`
    ScreenSpec(
        "",
        "upgrade",
        "Upgrades",
        "upgrades",
        "UpgradesScreen",
        "versions against current and the prime; staged upgrades",
    ),
)
KEYED_SCREENS: tuple[ScreenSpec, ...] = tuple(s for s in SCREENS if s.key)

# The actions with a key of their own everywhere (the others act on a screen's rows).
KEYED_ACTIONS: tuple[catalogue.ActionSpec, ...] = tuple(
    a for a in catalogue.ACTIONS if a.key and not a.selection
)


def action_bindings(actions: tuple[catalogue.ActionSpec, ...], run: str) -> list[Binding]:
    """A binding per action running ``run('name')``, and a hidden one that says the
    action is refused: the app enables one or the other (read-only mode)."""
    return [
        binding
        for a in actions
        for binding in (
            Binding(a.key, f"{run}('{a.name}')", a.title),
            Binding(a.key, f"app.refused('{a.name}')", a.title, show=False),
        )
    ]


def selection_bindings(screen: str) -> list[Binding]:
    """The keys of the actions on a screen's selected rows (ctrl+d on Sessions)."""
    return action_bindings(catalogue.selection_actions(screen), "act_on_selection")


def component_bindings() -> list[Binding]:
    """The keys of the actions that take a component (restart, rollback), acting on the
    component a detail view shows."""
    actions = tuple(a for a in KEYED_ACTIONS if a.choices and set(a.choices) <= set(COMPONENTS))
    return action_bindings(actions, "act_on_component")


def _screen_binding(spec: ScreenSpec) -> Binding:
    """The footer shows the first screen's key as "1-9 Screens" and hides the others."""
    first, last = KEYED_SCREENS[0], KEYED_SCREENS[-1]
    if spec is not first:
        return Binding(spec.key, f"app.go('{spec.name}')", spec.title, show=False)
    return Binding(
        spec.key,
        f"app.go('{spec.name}')",
        "Screens",
        key_display=f"{first.key}-{last.key}",
        tooltip=", ".join(f"{s.key} {s.title}" for s in KEYED_SCREENS),
    )


GLOBAL_BINDINGS: list[Binding] = [
    *(_screen_binding(s) for s in KEYED_SCREENS),
    *action_bindings(KEYED_ACTIONS, "app.act"),
    Binding("colon", "app.command_line", "Command", key_display=":"),
    Binding("question_mark", "app.help", "Help", key_display="?"),
    Binding("q", "app.ask_quit", "Quit", tooltip="asks first; ctrl+q quits at once"),
]

TABLE_BINDINGS: list[Binding] = [
    Binding("slash", "filter", "Filter", key_display="/"),
    Binding("escape", "clear_or_back", "Clear/back", show=False, key_display="esc"),
    Binding("l", "logs", "Logs"),
    Binding("space", "mark", "Mark", show=False),
    Binding("s", "sort", "Sort"),
]

DETAIL_BINDINGS: list[Binding] = [
    Binding("escape", "app.pop_screen", "Back", key_display="esc"),
]

LOG_BINDINGS: list[Binding] = [
    Binding("f", "follow", "Follow/pause"),
    Binding("t", "timestamps", "Timestamps"),
    Binding("w", "wrap", "Wrap"),
    Binding("slash", "filter", "Filter", key_display="/"),
    Binding("escape", "clear_or_back", "Clear/back", show=False, key_display="esc"),
    Binding("p", "pick", "Pick source"),
    Binding("ctrl+s", "save", "Save"),
]


DASHBOARD_BINDINGS: list[Binding] = [
    Binding("f", "fix", "Fix", tooltip="run the fix of the worst item that needs attention"),
]

BUDGET_BINDINGS: list[Binding] = [
    Binding("g", "reload", "Reload", tooltip="fetch prices and resources again"),
]

FEDERATION_BINDINGS: list[Binding] = [
    Binding("g", "reload", "Reload", tooltip="check every host again now"),
    Binding("enter", "open", "Open member", tooltip="switch the console to this member"),
]

UPGRADE_BINDINGS: list[Binding] = [
    Binding("g", "reload", "Reload", tooltip="read every version again"),
    Binding("k", "upgrade('upgrade-k3s')", "Upgrade k3s", tooltip="staged; asks first"),
    Binding("c", "upgrade('upgrade-charts')", "Upgrade charts", tooltip="staged; asks first"),
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
