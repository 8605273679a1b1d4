"""A seeded pool of varied, guardrail-clean marketing copy (no offer claims).

It gives benchmarks and demos many distinct creatives whose meanings differ along real
themes (sustainability, comfort, luxury, sport, ...), so embedding-driven copy effects have
something to work with. Texts are full-price copy: the offer is stated by the action.
"""

from __future__ import annotations

import numpy as np

_OPENERS = (
    "Just in:",
    "Meet your new favourite:",
    "Picked for you:",
    "This week's edit:",
    "Hello from the studio:",
    "Fresh on the rails:",
    "You asked, we listened:",
    "Quietly brilliant:",
)
_THEMES = (
    "organic cotton basics made to last, from a supply chain we can trace",
    "recycled fabrics and repair-friendly stitching for a lighter footprint",
    "soft lounge sets built for long weekends on the sofa",
    "cloud-light trainers that keep up with your morning run",
    "performance leggings that breathe through every workout",
    "tailored wool coats cut for the office and beyond",
    "silk scarves and fine leather bags with a timeless finish",
    "hand-finished jewellery in recycled gold",
    "waterproof jackets ready for muddy trails and city rain",
    "school-ready kidswear that survives the playground",
    "linen shirts and sandals for long summer evenings",
    "chunky knits and thermal layers for the cold snap",
    "party dresses with a little sparkle",
    "workwear staples that mix and match all week",
    "denim in every fit, from relaxed to skinny",
    "swimwear and beach towels for your next getaway",
    "cosy slippers and pyjamas for slow Sunday mornings",
    "bold prints from independent designers",
    "minimalist wardrobe essentials in neutral tones",
    "gift ideas they will actually love",
)
_CLOSERS = (
    "Take a look.",
    "See the collection.",
    "Find your size.",
    "Discover more in the shop.",
    "Browse at your own pace.",
)


def copy_pool(n: int, *, seed: int = 0) -> list[str]:
    """``n`` distinct texts: every theme appears before any repeats, openers and closers vary."""
    rng = np.random.default_rng(seed)
    combos = [
        (t, o, c) for t in range(len(_THEMES)) for o in range(len(_OPENERS)) for c in range(len(_CLOSERS))
    ]
    if n > len(combos):
        raise ValueError(f"the pool has {len(combos)} texts; asked for {n}")
    order = rng.permutation(len(combos))
    # round-robin over themes so a small pool still covers the meanings
    by_theme: dict[int, list[tuple[int, int, int]]] = {}
    for index in order:
        by_theme.setdefault(combos[index][0], []).append(combos[index])
    chosen: list[tuple[int, int, int]] = []
    themes = rng.permutation(len(_THEMES))
    while len(chosen) < n:
        for theme in themes:
            if by_theme[int(theme)] and len(chosen) < n:
                chosen.append(by_theme[int(theme)].pop())
    return [f"{_OPENERS[o]} {_THEMES[t]}. {_CLOSERS[c]}" for t, o, c in chosen]
