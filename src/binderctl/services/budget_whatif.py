"""What-if: the same member on the other server types of its location, and elsewhere.

Pure. A Hetzner row costs the type's monthly price plus a primary IPv4 (traffic not
included); it fits when the observed peak of sessions fits by memory (each session's
memory guarantee plus a reserve for k3s and BinderHub) and by pods (1.75 x GB, the
member's own max_pods for its current type). Comparison rows come from the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from binderctl.config import DEFAULT_COMPARISONS, SERVER_TYPE_MEMORY_GB, default_max_pods
from binderctl.services.budget import Money, Pricing, ServerTypePrice, with_vat

# k3s, hub, binder, proxy, dind, registry, cert-manager, monitoring.
SYSTEM_MEMORY_BYTES = 4 * 10**9
SYSTEM_PODS = 20
# Hetzner's "GB" of RAM is counted as 10**9 bytes here: the conservative reading.
GB = 10**9

HETZNER_PRICE = "Hetzner price list"
LIST_PRICE = "public list price (default)"
CONFIGURED = "configured"


@dataclass(frozen=True)
class WhatIfRow:
    name: str
    monthly: Money
    source: str
    current: bool = False
    memory_gb: int | None = None
    max_pods: int | None = None
    fits_memory: bool | None = None  # None: unknown (no RAM figure or no sessions seen)
    fits_pods: bool | None = None


def _hetzner_row(
    price: ServerTypePrice,
    ipv4: Money,
    current: bool,
    max_pods: int | None,
    peak: int | None,
    session_memory: int,
) -> WhatIfRow:
    memory_gb = SERVER_TYPE_MEMORY_GB.get(price.name)
    return WhatIfRow(
        name=price.name,
        monthly=price.time.monthly + ipv4,
        source=HETZNER_PRICE,
        current=current,
        memory_gb=memory_gb,
        max_pods=max_pods,
        fits_memory=(
            None
            if memory_gb is None or peak is None
            else peak * session_memory + SYSTEM_MEMORY_BYTES <= memory_gb * GB
        ),
        fits_pods=None if max_pods is None or peak is None else peak + SYSTEM_PODS <= max_pods,
    )


def what_if(
    pricing: Pricing,
    location: str,
    current_type: str,
    current_max_pods: int,
    peak_sessions: int | None,
    session_memory: int,
    comparisons: Mapping[str, Decimal],
) -> list[WhatIfRow]:
    """Every server type priced in ``location`` (cheapest first), then the comparisons."""
    ipv4 = pricing.ipv4(location).monthly
    rows = []
    for price in sorted(pricing.in_location(location), key=lambda p: p.time.monthly.net):
        current = price.name == current_type
        max_pods = current_max_pods if current else default_max_pods(price.name)
        rows.append(_hetzner_row(price, ipv4, current, max_pods, peak_sessions, session_memory))
    for label, net in sorted(comparisons.items(), key=lambda item: item[1]):
        source = LIST_PRICE if DEFAULT_COMPARISONS.get(label) == net else CONFIGURED
        rows.append(WhatIfRow(label, with_vat(net, pricing.vat_rate), source))
    return rows
