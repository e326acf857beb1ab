"""Every incident action, defined once.

An entry gives an action's name (the CLI subcommand, the console's `:` command and
palette entry, and the ``action`` of its audit record), its title, console key, help,
blast radius, options and targets, and how it is built from what the operator chose.
The CLI's subcommands and the console's keys, footer, help screen, palette and `:` line
are all generated from ``ACTIONS`` and ``ALIASES``; nothing else names an action.

Both faces parse an action's words with the same parser (``add_arguments`` and
``request_from``), so `:x ARGS` in the console is exactly ``binderctl x ARGS``. A
selection (marked rows) is one request with several targets: one confirmation, one
run, one audit record.

This module imports no service that talks to the cluster: the console reads it before
its first frame. Defaults that live in those services are read when a parser is built.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from binderctl.errors import UsageError
from binderctl.formatting import age, inert
from binderctl.models import COMPONENTS
from binderctl.parsing import argument_type, parse_duration, parse_positive_int

if TYPE_CHECKING:
    from binderctl.services.actions import Action, Operations
    from binderctl.services.upgrades import UpgradeOptions


@dataclass(frozen=True)
class Request:
    """One run of one action: its catalogue name, what it acts on, its options."""

    action: str
    targets: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """An option of an action, or (a name without dashes) its targets."""

    name: str  # "--wait"; "component": the positional that names the targets
    help: str  # "{default}" is replaced by the default (a duration as 10m)
    parse: Callable[[str], Any] | None = None  # None: a flag (targets: the words as typed)
    metavar: str | None = None
    default: Any = None  # or a function returning it, called when a parser is built
    choices: tuple[str, ...] = ()
    many: bool = False  # targets: one or more (several marked rows)
    group: str = ""  # options of one group exclude each other and one is required

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")

    @property
    def positional(self) -> bool:
        return not self.name.startswith("-")

    @property
    def flag(self) -> bool:
        return not self.positional and self.parse is None

    def default_value(self) -> Any:
        if self.flag:
            return False
        if self.many:
            return []
        return self.default() if callable(self.default) else self.default


@dataclass(frozen=True)
class Blast:
    """Part of an action's blast radius, in plain words (from the member facts)."""

    text: str
    when: str = ""  # only for this target ("dind"), or with this option ("--hard")
    unless: str = ""  # only without this option

    def applies(self, targets: Sequence[str], options: Mapping[str, Any]) -> bool:
        def given(condition: str) -> bool:
            if condition.startswith("--"):
                return options.get(condition[2:].replace("-", "_")) not in (None, False)
            return condition in targets

        return (not self.when or given(self.when)) and not (self.unless and given(self.unless))

    @property
    def label(self) -> str:
        if self.unless:
            return f"without {self.unless}"
        if self.when.startswith("--"):
            return f"with {self.when}"
        return self.when


@dataclass(frozen=True)
class ActionSpec:
    name: str
    title: str
    help: str
    blast: tuple[Blast, ...]
    build: Callable[[Operations, Request], Action]
    key: str = ""  # the console key; "" for the palette and the `:` line only
    options: tuple[Option, ...] = ()
    # A table screen whose marked rows (or the row under the cursor) are the targets;
    # the key acts there (and on that screen's detail view).
    selection: str = ""
    example: str = ""  # arguments of a `:` example (help screen; tests parse them)
    reconnects: bool = False  # the console connects again after it (a new kubeconfig)
    command: tuple[str, ...] = ()  # the CLI's words when not the name: ("upgrade", "k3s")
    changes_disk: bool = False  # the console reads the node's disk again at once after it

    @property
    def target(self) -> Option | None:
        return next((o for o in self.options if o.positional), None)

    @property
    def choices(self) -> tuple[str, ...]:
        """The targets to pick from when none is given (restart: the components)."""
        target = self.target
        return () if target is None else target.choices

    def blast_radius(
        self, targets: Sequence[str] = (), options: Mapping[str, Any] | None = None
    ) -> str:
        given = options or {}
        return " ".join(b.text for b in self.blast if b.applies(targets, given))


@dataclass(frozen=True)
class Alias:
    """Another name for an action, maybe with its targets given (``restart-dind``)."""

    name: str
    action: str
    targets: tuple[str, ...] = ()

    @property
    def help(self) -> str:
        return f"same as `{' '.join((self.action, *self.targets))}`"


def _quota_timeout() -> float:
    from binderctl.services.quota_change import DEFAULT_TIMEOUT

    return DEFAULT_TIMEOUT


def _rollout_timeout() -> float:
    from binderctl.services.component_rollout import DEFAULT_TIMEOUT

    return DEFAULT_TIMEOUT


def _stuck_after() -> float:
    from binderctl.services.mapping import STUCK_AFTER_SECONDS

    return STUCK_AFTER_SECONDS


duration = argument_type(parse_duration)

STUCK_AFTER = Option(
    "--stuck-after",
    "a build running longer than D counts as stuck (default {default})",
    duration,
    "D",
    _stuck_after,
)
ROLLOUT_TIMEOUT = Option(
    "--timeout",
    "how long to wait for the rollout to finish (default {default}); it fails sooner when "
    "a new pod cannot start and waiting cannot help",
    duration,
    "D",
    _rollout_timeout,
)
QUOTA_TIMEOUT = Option(
    "--timeout",
    "how long to wait for BinderHub's /health to report the new quota (default {default})",
    duration,
    "D",
    _quota_timeout,
)


THRESHOLD = Option(
    "--threshold",
    "sessions left that count as drained when waiting for them (default {default})",
    argument_type(lambda text: parse_positive_int(text, name="--threshold", low=0, high=100_000)),
    "N",
    0,
)
FORCE_AFTER = Option(
    "--force-after",
    "evict the sessions still running after D (e.g. 30m); for drain, implies --wait",
    duration,
    "D",
)


def _upgrade_timeout() -> float:
    from binderctl.services.upgrades import DEFAULT_TIMEOUT

    return DEFAULT_TIMEOUT


UPGRADE_TIMEOUT = Option(
    "--timeout", "the longest wait of any one step (default {default})", duration, "D",
    _upgrade_timeout,
)  # fmt: skip
DRY_RUN = Option("--dry-run", "print every step and change nothing")
UPGRADE_DRAIN = Blast(
    "The member is drained first, as `drain --wait` does (launch quota 0 until BinderHub "
    "reports it; the federation redirector drops it): no new sessions start here until the "
    "last step resumes it, and a step that fails leaves it drained. Running sessions go on."
)
CHART_TIMEOUT = Option(
    "--timeout",
    "how long to wait for the chart's install job and the binder rollout (default {default})",
    duration,
    "D",
    _quota_timeout,
)
REPOS = Option(
    "repo",
    "repository URLs (https://github.com/org/repo), or org/repo for GitHub",
    metavar="REPO",
    many=True,
)


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def _drain(ops: Operations, r: Request) -> Action:
    return ops.drain(
        wait=bool(r.options["wait"]),
        threshold=int(r.options["threshold"]),
        force_after=_seconds(r.options["force_after"]),
        timeout=float(r.options["timeout"]),
    )


def _kill_session(ops: Operations, r: Request) -> Action:
    return ops.kill_sessions(
        names=r.targets,
        repo=r.options["repo"],
        older_than=_seconds(r.options["older_than"]),
    )


def _upgrade_options(r: Request) -> UpgradeOptions:
    from binderctl.services.upgrades import UpgradeOptions

    return UpgradeOptions(
        threshold=int(r.options["threshold"]),
        force_after=_seconds(r.options["force_after"]),
        timeout=float(r.options["timeout"]),
    )


def _upgrade_schedule(ops: Operations, r: Request) -> Action:
    from binderctl.maintenance_window import Window

    default = ops.upgrades.window
    days = tuple(r.options["day"]) or default.days
    window = Window(
        days,
        r.options["start"] or default.start,
        r.options["end"] or default.end,
        r.options["timezone"] or default.timezone,
    )
    return ops.upgrade_schedule(window=window, remove=bool(r.options["remove"]))


def _delete_builds(ops: Operations, r: Request) -> Action:
    stuck, failed = bool(r.options["stuck"]), bool(r.options["failed"])
    if not (stuck or failed):
        stuck = failed = True
    return ops.delete_builds(
        stuck=stuck, failed=failed, stuck_after=float(r.options["stuck_after"])
    )


# What a new pod of each Deployment means for users while it replaces the old one.
COMPONENT_BLAST = (
    Blast("Running sessions survive; launches in flight fail.", when="hub"),
    Blast("The site blinks while binder restarts; running sessions survive.", "binder"),
    Blast("Every user loses their connection until the proxy's routes are restored.", "proxy"),
)
ROLLBACK_TARGETS = tuple(c for c in COMPONENTS if c != "dind")  # Deployments


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "drain",
        "Drain",
        "take the member out of rotation: launch quota 0, until BinderHub's /health has it",
        (
            Blast(
                "The launch quota becomes 0 in the BinderHub chart; k3s's helm-controller "
                "runs its install job (helm upgrade) and binder rolls to a new pod, which "
                "reports quota 0 in /health: from then no new sessions start here and the "
                "federation redirector drops the member at its next check (every 15 s). That "
                "takes as long as the job's helm upgrade plus one binder pod start (readiness "
                "probe every 5 s); drain waits for it (--timeout). The node is not cordoned: "
                "on a single node that would keep the job and the new binder pod Pending. "
                "Running sessions go on until they end."
            ),
            Blast(
                "Sessions still running when the timeout passes are evicted: those users "
                "lose their session and any unsaved work.",
                when="--force-after",
            ),
        ),
        _drain,
        key="D",
        options=(
            Option("--wait", "wait until the sessions fall to --threshold"),
            THRESHOLD,
            FORCE_AFTER,
            QUOTA_TIMEOUT,
        ),
    ),
    ActionSpec(
        "resume",
        "Resume",
        "put the member back in rotation: uncordon, restore the quota recorded by drain",
        (
            Blast(
                "A cordoned node is uncordoned, then the launch quota is restored the same "
                "way (install job, binder rollout, /health). The federation redirector "
                "re-checks a dropped member only after its failed_period (90 s in "
                "production), so launches come back up to that long after /health reports "
                "the quota."
            ),
        ),
        lambda ops, r: ops.resume(timeout=float(r.options["timeout"])),
        key="U",
        options=(QUOTA_TIMEOUT,),
    ),
    ActionSpec(
        "restart",
        "Restart",
        "restart hub, binder or proxy (rollout restart) or dind (delete its pods), and wait "
        "until the new pods are ready",
        (
            *COMPONENT_BLAST,
            Blast(
                "Builds in progress fail (the confirmation counts them) and hung builds are "
                "freed; running sessions are not affected.",
                "dind",
            ),
        ),
        lambda ops, r: ops.restart(r.targets[0], timeout=float(r.options["timeout"])),
        key="r",
        options=(Option("component", "what to restart", choices=COMPONENTS), ROLLOUT_TIMEOUT),
        example="proxy",
    ),
    ActionSpec(
        "rollback",
        "Roll back",
        "return hub, binder or proxy to its previous revision (as kubectl rollout undo) and "
        "wait until the new pods are ready",
        (
            Blast(
                "The deployment's pod template (image and settings) becomes that of its "
                "previous revision and rolls out as a restart does. The BinderHub chart still "
                "names the new one: the next helm upgrade (--provision, drain, resume) sets it "
                "again."
            ),
            *COMPONENT_BLAST,
        ),
        lambda ops, r: ops.rollback(r.targets[0], timeout=float(r.options["timeout"])),
        key="Z",
        options=(
            Option("component", "what to roll back", choices=ROLLBACK_TARGETS),
            ROLLOUT_TIMEOUT,
        ),
        example="hub",
    ),
    ActionSpec(
        "kill-session",
        "Kill sessions",
        "delete session pods: by name (one or more), all of a repo, or all older than a duration",
        (Blast("Each selected session is gone, with any unsaved work of its user."),),
        _kill_session,
        key="ctrl+d",
        options=(
            Option("name", "session pods (jupyter-...)", metavar="NAME", many=True, group="which"),
            Option("--repo", "every session of this repo URL", str, "R", group="which"),
            Option("--older-than", "sessions older than D", duration, "D", group="which"),
        ),
        selection="sessions",
        example="NAME",
    ),
    ActionSpec(
        "delete-build",
        "Delete builds",
        "delete build pods by name (one or more): their builds stop",
        (Blast("The selected builds stop; their users see the build fail and can launch again."),),
        lambda ops, r: ops.delete_build(r.targets),
        key="ctrl+d",
        options=(Option("pod", "build pods (build-...)", metavar="POD", many=True),),
        selection="builds",
        example="POD",
    ),
    ActionSpec(
        "delete-builds",
        "Delete stuck and failed builds",
        "delete every stuck and/or failed build pod (default: both)",
        (
            Blast(
                "Every stuck or failed build stops; their users see the build fail and can "
                "launch again."
            ),
        ),
        _delete_builds,
        options=(
            Option("--stuck", "builds running for too long"),
            Option("--failed", "builds that failed"),
            STUCK_AFTER,
        ),
    ),
    ActionSpec(
        "prune-images",
        "Prune images",
        "remove unused container images on the node (k3s crictl rmi --prune)",
        (
            Blast(
                "Images no container uses are removed from the node; the next launch of "
                "those repos pulls them again and starts more slowly."
            ),
        ),
        lambda ops, r: ops.prune_images(),
        key="P",
        changes_disk=True,
    ),
    ActionSpec(
        "reboot",
        "Reboot server",
        "reboot the server through the Hetzner API (soft by default)",
        (
            Blast(
                "Every session ends and the member is down for a few minutes; the federation "
                "drops it meanwhile. Drain first when you can.",
                unless="--hard",
            ),
            Blast(
                "Every session ends and the server is power-cycled like pulling the plug: "
                "file systems are not shut down cleanly. Use it only when a soft reboot hangs.",
                when="--hard",
            ),
        ),
        lambda ops, r: ops.reboot(hard=bool(r.options["hard"])),
        options=(Option("--hard", "power-cycle instead (hard reset)"),),
    ),
    ActionSpec(
        "renew-certs",
        "Renew certificates",
        "rotate the k3s certificates and fetch a fresh kubeconfig",
        (
            Blast(
                "k3s restarts with new certificates, so the API is briefly unavailable; "
                "running sessions are not affected. The kubeconfig is replaced."
            ),
        ),
        lambda ops, r: ops.renew_certs(),
        reconnects=True,
    ),
    ActionSpec(
        "upgrade-k3s",
        "Upgrade k3s",
        "move k3s one minor forward (or to --to), staged: check, prepare, drain, upgrade, "
        "verify, resume; a rerun finishes an interrupted one",
        (
            UPGRADE_DRAIN,
            Blast(
                "The system-upgrade-controller's Job replaces the k3s binary and restarts k3s: "
                "the Kubernetes API is down for a while (kubectl and the console reconnect); "
                "running sessions keep running, as containers survive a k3s restart. k3s "
                "cannot be downgraded in place."
            ),
            Blast(
                "Sessions still running after D are evicted: those users lose their session "
                "and any unsaved work.",
                when="--force-after",
            ),
        ),
        lambda ops, r: ops.upgrade_k3s(
            to=r.options["to"], options=_upgrade_options(r), dry_run=bool(r.options["dry_run"])
        ),
        options=(
            Option(
                "--to",
                "the k3s release (default: the next step toward the channel)",
                str,
                "VERSION",
            ),
            THRESHOLD,
            FORCE_AFTER,
            UPGRADE_TIMEOUT,
            DRY_RUN,
        ),
        command=("upgrade", "k3s"),
    ),
    ActionSpec(
        "upgrade-charts",
        "Upgrade charts",
        "move the BinderHub chart and build_image to the prime's versions and cert-manager "
        "and traefik to binderctl's, staged: check, drain, apply, verify, resume",
        (
            UPGRADE_DRAIN,
            Blast(
                "helm-controller upgrades each changed release (failurePolicy abort: a failed "
                "upgrade keeps the release as it was, nothing is uninstalled); BinderHub's "
                "hub is replaced (launches in flight fail) and binder rolls."
            ),
            Blast(
                "Sessions still running after D are evicted: those users lose their session "
                "and any unsaved work.",
                when="--force-after",
            ),
        ),
        lambda ops, r: ops.upgrade_charts(
            options=_upgrade_options(r), dry_run=bool(r.options["dry_run"])
        ),
        options=(THRESHOLD, FORCE_AFTER, UPGRADE_TIMEOUT, DRY_RUN),
        command=("upgrade", "charts"),
    ),
    ActionSpec(
        "upgrade-schedule",
        "Schedule k3s upgrades",
        "install or update an automatic k3s upgrade Plan that follows the configured channel "
        "in a maintenance window (mybinder's: Sunday 00:00-02:00 UTC), or --remove it",
        (
            Blast(
                "In each window the system-upgrade-controller upgrades k3s to the channel's "
                "release without draining first (as mybinder's plan does): the Kubernetes "
                "API is down for a while and launches in flight may fail; running sessions "
                "keep running.",
                unless="--remove",
            ),
            Blast("No automatic upgrade happens any more.", when="--remove"),
        ),
        _upgrade_schedule,
        options=(
            Option(
                "--day",
                "a day of the window (repeat for more; default the config's)",
                str,
                "DAY",
                many=True,
            ),
            Option("--start", "when the window opens, e.g. 00:00", str, "HH:MM"),
            Option("--end", "when it closes, e.g. 02:00", str, "HH:MM"),
            Option("--timezone", "its time zone, e.g. UTC or Europe/Berlin", str, "ZONE"),
            Option("--remove", "remove the schedule"),
        ),
        command=("upgrade", "schedule"),
    ),
    ActionSpec(
        "ban",
        "Ban repositories",
        "keep repositories from launching: BinderHub's banned_specs (--kill: end their sessions)",
        (
            Blast(
                "Each repository goes into the banned_specs of every repo provider that can "
                "launch it (a pattern that matches its specs and nothing else), in the BinderHub "
                "chart: k3s's helm-controller runs the install job and binder rolls to a new pod "
                "(the site blinks; running sessions survive). From then BinderHub refuses its "
                "launches ('Sorry, ... is not allowed to launch'). Kept by --provision until unban."
            ),
            Blast(
                "Every running session of the repositories is deleted (those users lose unsaved "
                "work) and their builds in progress stop; the kubelet's counters of each session "
                "are recorded first, for `abuse report`. Sessions that start before the ban "
                "reaches BinderHub are killed too.",
                when="--kill",
            ),
        ),
        lambda ops, r: ops.ban(
            r.targets,
            reason=str(r.options["reason"] or ""),
            kill=bool(r.options["kill"]),
            timeout=float(r.options["timeout"]),
        ),
        key="b",
        options=(
            REPOS,
            Option("--reason", "why: kept with the ban, shown by `bans`", str, "TEXT", ""),
            Option("--kill", "also kill their running sessions and builds in progress"),
            CHART_TIMEOUT,
        ),
        selection="abuse",
        example="org/repo --kill --reason mining",
    ),
    ActionSpec(
        "unban",
        "Unban repositories",
        "let banned repositories launch again (removes binderctl's ban from banned_specs)",
        (
            Blast(
                "The repositories' patterns leave banned_specs the same way (install job, "
                "binder rollout: the site blinks); then BinderHub launches them again."
            ),
        ),
        lambda ops, r: ops.unban(r.targets, timeout=float(r.options["timeout"])),
        options=(REPOS, CHART_TIMEOUT),
        example="org/repo",
    ),
)


ALIASES: tuple[Alias, ...] = (
    Alias("prune", "prune-images"),
    Alias("kill", "kill-session"),
    Alias("restart-dind", "restart", ("dind",)),
)

_SPECS = {spec.name: spec for spec in ACTIONS}
_ALIASES = {alias.name: alias for alias in ALIASES}


def spec(name: str) -> ActionSpec:
    """The entry of ``name`` (an action's own name: aliases resolve through ``find``)."""
    return _SPECS[name]


def find(word: str) -> tuple[ActionSpec, Alias | None] | None:
    """The action a word names, and the alias it was named by."""
    if word in _SPECS:
        return _SPECS[word], None
    alias = _ALIASES.get(word)
    return None if alias is None else (_SPECS[alias.action], alias)


def names() -> tuple[str, ...]:
    """Every word that names an action: names, then aliases."""
    return (*_SPECS, *_ALIASES)


def selection_actions(screen: str) -> tuple[ActionSpec, ...]:
    return tuple(s for s in ACTIONS if s.selection == screen)


def hint(name: str, target: str | None = None) -> str:
    """How an on-screen hint says to run an action: its key (``r dind``), else its `:`
    command (``:renew-certs``)."""
    action = spec(name)
    keyed = action.key and not action.selection  # a selection's key acts on its rows
    words = (action.key, target) if keyed else (f":{name}", target)
    return " ".join(w for w in words if w)


# -- parsing: the same for the CLI and the `:` line -------------------------------------


def add_option(parser: argparse.ArgumentParser | Any, option: Option) -> None:
    """Add ``option`` to ``parser`` (or to a group of it)."""
    kwargs: dict[str, Any] = {"help": option.help}
    default = option.default_value()
    if "{default}" in option.help:
        shown = age(default) if option.parse is duration else str(default)
        kwargs["help"] = option.help.replace("{default}", shown)
    if option.flag:
        kwargs["action"] = "store_true"
    else:
        kwargs.update(type=option.parse, default=default)
    if option.metavar:
        kwargs["metavar"] = option.metavar
    if option.choices:
        kwargs["choices"] = option.choices
    if option.many:
        kwargs["nargs"] = "*" if option.group else "+"
    elif option.positional and option.group:
        kwargs["nargs"] = "?"
    parser.add_argument(option.name, **kwargs)


def add_arguments(
    parser: argparse.ArgumentParser, action: ActionSpec, alias: Alias | None = None
) -> None:
    """The options and targets of ``action`` (an alias that gives the targets has none)."""
    groups: dict[str, Any] = {}
    for option in action.options:
        if option.positional and alias is not None and alias.targets:
            continue
        into: Any = parser
        if option.group:
            into = groups.get(option.group)
            if into is None:
                into = groups[option.group] = parser.add_mutually_exclusive_group(required=True)
        add_option(into, option)
    parser.set_defaults(
        catalogue_action=action.name,
        catalogue_targets=alias.targets if alias is not None else None,
    )


def request_from(namespace: argparse.Namespace) -> Request:
    """The request a parsed command line (the CLI's, or the `:` line's) makes."""
    action = spec(namespace.catalogue_action)
    targets: tuple[str, ...] = namespace.catalogue_targets or ()
    options: dict[str, Any] = {}
    for option in action.options:
        value = getattr(namespace, option.dest, None)
        if not option.positional:
            options[option.dest] = value
        elif not targets and value:
            targets = tuple(value) if isinstance(value, list) else (value,)
    return Request(action.name, targets, options)


class _WordsParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {inert(message, 200)}")


def parse(words: Sequence[str]) -> Request:
    """The request of an action's words (``["restart", "proxy"]``), as ``binderctl``
    would parse them; UsageError says what is wrong."""
    if not words:
        raise UsageError("no action named")
    found = find(words[0].lower())
    if found is None:
        raise UsageError(f"{inert(words[0], 30)!r} is not an action")
    action, alias = found
    parser = _WordsParser(prog=f":{words[0].lower()}", add_help=False)
    add_arguments(parser, action, alias)
    return request_from(parser.parse_args(list(words[1:])))


def request(name: str, targets: Iterable[str] = ()) -> Request:
    """The request of ``name`` on ``targets`` with every option at its default."""
    chosen = list(targets)
    return parse([name, *(["--", *chosen] if chosen else [])])


def build(ops: Operations, wanted: Request) -> Action:
    return spec(wanted.action).build(ops, wanted)
