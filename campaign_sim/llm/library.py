"""Build a copy library: generate, vet, regenerate the rejected, fall back to templates.

Every row written passed the guardrails, including near-duplicate removal by embedding
cosine against the copies already accepted. Tone (VADER) is stored as attributes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from campaign_sim.data.text import TextEncoder
from campaign_sim.llm.generators import CopyGenerator, CopyRequest, TemplateGenerator
from campaign_sim.llm.guardrails import Guardrails, split_email

FALLBACK_VARIANTS = 9  # template variants tried before a request is dropped as a duplicate


@dataclass
class LibraryBuild:
    """The accepted copies and what it took to get them."""

    frame: pl.DataFrame
    generated: int = 0  # texts the generator produced
    rejected: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    fallbacks: int = 0
    dropped: int = 0
    seconds: float = 0.0

    @property
    def acceptance_rate(self) -> float:
        """Share of generated texts that passed every guardrail."""
        return (self.generated - len(self.rejected)) / max(self.generated, 1)


def build_library(
    requests: Sequence[CopyRequest],
    *,
    generator: CopyGenerator,
    encoder: TextEncoder,
    guardrails: Guardrails | None = None,
    seed: int = 0,
    retries: int = 3,
) -> LibraryBuild:
    """One vetted copy per request; ``retries`` generations, then the template fallback."""
    guardrails = guardrails or Guardrails()
    started = time.perf_counter()
    build = LibraryBuild(pl.DataFrame())
    accepted: dict[int, tuple[str, np.ndarray, str, str, int]] = {}
    vectors = np.zeros((0, encoder.dim), dtype=np.float32)
    pending = list(range(len(requests)))
    attempts = [(generator, a) for a in range(retries)]
    attempts += [(TemplateGenerator(), a) for a in range(FALLBACK_VARIANTS)]
    for source, attempt in attempts:
        if not pending:
            break
        texts = source.generate([requests[i] for i in pending], seed=seed, attempt=attempt)
        if source is generator:
            build.generated += len(texts)
        passed = []
        for i, text in zip(pending, texts, strict=True):
            reasons = guardrails.check(text, discount=requests[i].discount, channel=requests[i].channel)
            if reasons and source is generator:
                build.rejected.append((text, reasons))
            elif not reasons:
                passed.append((i, text))
        embedded = encoder.encode([t for _, t in passed]) if passed else vectors[:0]
        duplicate = guardrails.near_duplicates(embedded, vectors)
        for (i, text), vector, dup in zip(passed, embedded, duplicate, strict=True):
            if dup:
                if source is generator:
                    build.rejected.append((text, ("near-duplicate of an accepted copy",)))
                continue
            accepted[i] = (text, vector, source.name, source.model, attempt)
            vectors = np.concatenate([vectors, vector[None, :]])
            build.fallbacks += source is not generator
        pending = [i for i in pending if i not in accepted]
    build.dropped = len(pending)
    build.frame = _frame(requests, accepted, encoder=encoder, seed=seed)
    build.seconds = time.perf_counter() - started
    return build


def tone_scores(texts: Sequence[str]) -> dict[str, list[float]]:
    """VADER compound, positive, negative and neutral scores (lexicon, no model)."""
    from vader import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    scores = [analyzer.polarity_scores(t.replace("\n", ". ")) for t in texts]
    return {f"tone_{k}": [float(s[k]) for s in scores] for k in ("compound", "pos", "neg", "neu")}


def copy_id(request: CopyRequest, index: int) -> str:
    angle = f"{request.angle}-" if request.angle else ""
    return f"{request.channel}-{request.profile}-{round(request.discount * 100):02d}-{angle}{index}"


def _frame(
    requests: Sequence[CopyRequest],
    accepted: dict[int, tuple[str, np.ndarray, str, str, int]],
    *,
    encoder: TextEncoder,
    seed: int,
) -> pl.DataFrame:
    order = sorted(accepted)
    texts = [accepted[i][0] for i in order]
    rows = {
        "copy_id": [copy_id(requests[i], i) for i in order],
        "channel": [requests[i].channel for i in order],
        "segment": [requests[i].profile for i in order],
        "angle": [requests[i].angle or None for i in order],
        "discount": [float(requests[i].discount) for i in order],
        "text": texts,
        "subject": [
            split_email(accepted[i][0])[0] if requests[i].channel == "email" else None for i in order
        ],
        "generator": [accepted[i][2] for i in order],
        "model": [accepted[i][3] for i in order],
        "seed": [seed] * len(order),
        "attempt": [accepted[i][4] for i in order],
        "encoder": [encoder.name] * len(order),
        "embedding": [accepted[i][1].astype(np.float32).tolist() for i in order],
        **tone_scores(texts),
        "guardrail": ["pass"] * len(order),
    }
    schema = {
        "embedding": pl.List(pl.Float32),
        "subject": pl.String,
        "angle": pl.String,
        "seed": pl.Int64,
        "attempt": pl.Int64,
    }
    return pl.DataFrame(rows, schema_overrides=schema)
