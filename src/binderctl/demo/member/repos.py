"""The repositories people launch: a few popular ones often, a long tail rarely (Zipf).

All are real public GitHub repositories with a Binder configuration. Each has a few
commits (refs); launches mostly resolve to the newest, and now and then a repository
gets a new commit, whose first launch needs a build.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field

# Most launched first.
REPOSITORIES: tuple[str, ...] = (
    "binder-examples/requirements",
    "ipython/ipython-in-depth",
    "jupyterlab/jupyterlab-demo",
    "binder-examples/r",
    "binder-examples/conda",
    "jakevdp/PythonDataScienceHandbook",
    "ageron/handson-ml2",
    "norvig/pytudes",
    "bokeh/bokeh-notebooks",
    "numpy/numpy-tutorials",
    "jupyter-widgets/ipywidgets",
    "voila-dashboards/voila",
    "holoviz/panel",
    "binder-examples/julia-python",
    "geopandas/geopandas",
    "binder-examples/jupyter-extension",
    "binder-examples/minimal-dockerfile",
    "binder-examples/r_with_python",
    "binder-examples/dockerfile-rstudio",
    "binder-examples/octave",
    "binder-examples/multi-language-demo",
    "binder-examples/jupyter-rise",
    "binder-examples/voila",
    "binder-examples/tensorboard",
    "binder-examples/apt_install",
    "binder-examples/pipfile",
    "binder-examples/latex",
    "binder-examples/jupyter-sos",
    "binder-examples/continuous-build",
    "binder-examples/getting-data",
    "binder-examples/matplotlib-versions",
    "binder-examples/remote_storage",
    "binder-examples/stencila-r",
    "binder-examples/rocker",
    "binder-examples/r-conda",
    "binder-examples/python2_with_3",
    "binder-examples/nix",
    "binder-examples/setup.py",
    "binder-examples/bokeh",
    "binder-examples/jupyterlab",
)
ZIPF_EXPONENT = 1.1
NEW_COMMIT_CHANCE = 0.02  # per launch of a repository


@dataclass
class Repo:
    owner: str
    name: str
    branch: str  # what launch links name: HEAD, main or master
    refs: list[str] = field(default_factory=list)  # newest first

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"

    @property
    def spec(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def build_slug(self) -> str:
        return f"{self.owner}-{self.name}"

    def ref_url(self, ref: str) -> str:
        return f"{self.url}/tree/{ref}"


@dataclass(frozen=True)
class Launch:
    repo: Repo
    ref: str
    unresolved: str  # what the user asked for: a branch name, or the SHA itself

    @property
    def spec(self) -> str:
        """What BinderHub's GitHub provider is given: ``owner/repo/ref`` as asked."""
        return f"{self.repo.spec}/{self.unresolved}"

    @property
    def request(self) -> str:
        return f"v2/gh/{self.spec}"

    @property
    def persistent_request(self) -> str:
        return f"v2/gh/{self.repo.spec}/{self.ref}"


def commit_sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


class RepoCatalog:
    def __init__(self, rng: random.Random, names: tuple[str, ...] = REPOSITORIES) -> None:
        self._rng = rng
        self.repos = []
        for full in names:
            owner, name = full.split("/")
            refs = [commit_sha(rng) for _ in range(rng.randint(2, 5))]
            branch = rng.choice(("HEAD", "main", "master"))
            self.repos.append(Repo(owner, name, branch, refs))
        weights = [1 / (rank**ZIPF_EXPONENT) for rank in range(1, len(self.repos) + 1)]
        self._cumulative = list(itertools.accumulate(weights))

    def pick(self) -> Launch:
        rng = self._rng
        index = bisect.bisect_left(self._cumulative, rng.random() * self._cumulative[-1])
        repo = self.repos[index]
        if rng.random() < NEW_COMMIT_CHANCE:
            repo.refs.insert(0, commit_sha(rng))
        if rng.random() < 0.85:
            return Launch(repo, repo.refs[0], repo.branch)
        ref = rng.choice(repo.refs)
        return Launch(repo, ref, ref)
