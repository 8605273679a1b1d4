"""Copy workflows: generate a vetted copy library, score copies in a fitted world, profile shoppers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.core.config import CampaignConfig
from campaign_sim.core.errors import InputError
from campaign_sim.data.copies import load_copy_embeddings
from campaign_sim.data.log import load_log
from campaign_sim.data.text import TextEncoder
from campaign_sim.llm.encoders import make_encoder
from campaign_sim.llm.generators import CopyRequest, HFGenerator, TemplateGenerator
from campaign_sim.llm.guardrails import DEFAULT_BANNED, Guardrails
from campaign_sim.llm.library import LibraryBuild, build_library
from campaign_sim.llm.profiles import segment_shoppers
from campaign_sim.simulators.fitted.copy_uncertainty import copy_lift_interval
from campaign_sim.simulators.fitted.encoding import state_columns, training_actions
from campaign_sim.simulators.fitted.fit import shopper_population
from campaign_sim.simulators.fitted.world import FittedWorld

# The synthetic world's segments, described the way a CRM team would brief a copywriter.
DEFAULT_PROFILES = {
    "loyal": "regular buyers with high spend",
    "deal_seeker": "shoppers who mostly buy on discount",
    "email_fan": "shoppers who read and click our e-mails",
    "mobile_first": "shoppers who mostly use the app",
    "dormant": "shoppers who have not bought for months",
}
LIBRARY_FILE, PROFILES_FILE = "copies.parquet", "profiles.json"
SCORES_FILE = "copy_scores.parquet"  # written into the world folder by `copy score`


def copy_requests(
    profiles: dict[str, str],
    *,
    discounts: Sequence[float],
    channels: Sequence[str],
    per_offer: int,
    angles: Sequence[str] = ("",),
) -> list[CopyRequest]:
    """Every (profile, discount, channel) offer, ``per_offer`` copies from each of ``angles``
    (keys of ``llm.generators.ANGLES``; "" asks for no angle)."""
    return [
        CopyRequest(name, description, float(d), channel, angle)
        for name, description in profiles.items()
        for d in discounts
        for channel in channels
        for angle in angles
        for _ in range(per_offer)
    ]


def load_profiles(path: str | Path | None) -> dict[str, str]:
    """Profile name -> description, from ``campaign-sim segment`` output, else the defaults."""
    if path is None:
        return dict(DEFAULT_PROFILES)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return {p["key"]: p["description"] for p in raw["profiles"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a profiles file from `campaign-sim segment` ({exc})") from None


GENERATOR_NAMES = ("template", "smollm2", "auto")
COPY_CHANNELS = ("email", "sms", "push")  # the channels copy is written for (length rules per channel)


def check_generator(name: str) -> str:
    """``name`` if it is a generator, checked before any work starts."""
    if name not in GENERATOR_NAMES:
        raise InputError(f"--generator {name!r}: expected one of {', '.join(GENERATOR_NAMES)}")
    return name


def make_generator(name: str):
    """``template``, ``smollm2``, or ``auto`` (SmolLM2 when installed, else templates)."""
    check_generator(name)
    if name == "template":
        return TemplateGenerator()
    if name == "smollm2":
        return HFGenerator()
    if name == "auto":
        try:
            return HFGenerator()
        except (InputError, ImportError):
            return TemplateGenerator()
    raise AssertionError(name)  # check_generator refused every other name


@dataclass(frozen=True)
class CopyGenerated:
    path: Path
    build: LibraryBuild
    summary: dict[str, Any]


def run_copy_generate(
    out: str | Path,
    *,
    requests: Sequence[CopyRequest],
    generator: str = "template",
    encoder: str | TextEncoder = "hashing",
    banned: Sequence[str] = DEFAULT_BANNED,
    retries: int = 3,
    seed: int = 0,
) -> CopyGenerated:
    """Write ``out/copies.parquet`` (every row passed the guardrails) and a JSON summary."""
    out = Path(out)
    model = make_generator(generator)
    text_encoder = make_encoder(encoder) if isinstance(encoder, str) else encoder
    build = build_library(
        requests,
        generator=model,
        encoder=text_encoder,
        guardrails=Guardrails(tuple(banned)),
        seed=seed,
        retries=retries,
    )
    path = out / LIBRARY_FILE
    with atomic_path(path) as tmp:
        build.frame.write_parquet(tmp)
    summary = {
        "library": str(path),
        "copies": build.frame.height,
        "requested": len(requests),
        "generator": model.name,
        "model": model.model,
        "encoder": text_encoder.name,
        "generated": build.generated,
        "acceptance_rate": round(build.acceptance_rate, 4),
        "template_fallbacks": build.fallbacks,
        "dropped_as_duplicates": build.dropped,
        "seconds": round(build.seconds, 2),
        "rejections": [{"text": t, "reasons": list(r)} for t, r in build.rejected[:50]],
    }
    if getattr(model, "tokens_generated", 0):
        summary["ms_per_token"] = round(1000 * model.seconds / model.tokens_generated, 2)
    write_text_atomic(out / "copy_generation.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return CopyGenerated(path, build, summary)


def run_copy_score(
    world_dir: str | Path,
    library: str | Path,
    *,
    encoder: str | TextEncoder = "hashing",
    by: str | None = None,
    top: int = 3,
    history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Rank the library's copies per shopper group by predicted incremental profit, next to the
    predicted visit lift. Each lift carries the 95% interval of ``copy_lift_interval``: the
    members' spread, widened with the copy's distance from the logged copies and, given the
    ``history`` the world was fitted on, corrected by the group's logged residuals."""
    world = FittedWorld.load(world_dir)
    text_encoder = make_encoder(encoder) if isinstance(encoder, str) else encoder
    frame = pl.read_parquet(library)
    embeddings = load_copy_embeddings(library, encoder=text_encoder)
    population = world.population
    if population is None:
        raise InputError(f"{world_dir}: the world has no shopper population to score copies on")
    by = by or ("segment" if "segment" in population.columns else None)
    if by is not None and by not in population.columns:
        raise InputError(f"{world_dir}: column {by!r} is not a shopper feature (have {population.columns})")
    groups = population.partition_by(by, as_dict=True) if by else {("all",): population}
    frame = frame.with_columns(
        pl.col("channel").replace("any", "email").fill_null("email")
        if "channel" in frame.columns
        else pl.lit("email").alias("channel"),
        pl.col("discount").cast(pl.Float64).fill_null(0.0)
        if "discount" in frame.columns
        else pl.lit(0.0).alias("discount"),
    )
    for row in frame.filter(~pl.col("channel").is_in(list(world.channels))).head(1).iter_rows(named=True):
        raise InputError(
            f"{library}: copy {row['copy_id']!r} is for channel {row['channel']!r}, not in the world"
        )
    rows = []
    for (channel, discount), offer in frame.group_by(["channel", "discount"], maintain_order=True):
        vectors = np.stack([embeddings[str(c)] for c in offer.get_column("copy_id")])
        for key, shoppers in sorted(groups.items(), key=lambda kv: str(kv[0])):
            logged = history
            if history is not None and by is not None and by in history.columns:
                logged = history.filter(pl.col(by) == key[0])
            at = {"discount": discount, "channel": channel, "shoppers": shoppers, "history": logged}
            profit = copy_lift_interval(world, vectors, key="profit", **at)
            visit = copy_lift_interval(world, vectors, key="visit", **at)
            for i, row in enumerate(offer.iter_rows(named=True)):
                rows.append(
                    {
                        "group": str(key[0]),
                        "copy_id": str(row["copy_id"]),
                        "channel": channel,
                        "discount": discount,
                        "text": row["text"],
                        "profit_lift": float(profit.mean[i]),
                        "profit_low": float(profit.low[i]),
                        "profit_high": float(profit.high[i]),
                        "visit_lift": float(visit.mean[i]),
                        "distance": float(profit.distance[i]),
                        "corrected": profit.offset is not None,
                        "written_for": None if by is None else row.get(by),
                        "angle": row.get("angle"),
                    }
                )
    scores = _own_copies(pl.DataFrame(rows)).sort(["group", "profit_lift"], descending=[False, True])
    scores = scores.with_columns(
        pl.col("profit_lift").rank("ordinal", descending=True).over("group").alias("rank")
    )
    with atomic_path(Path(world_dir) / SCORES_FILE) as tmp:
        scores.write_parquet(tmp)
    return scores.filter(pl.col("rank") <= top)


def _own_copies(scores: pl.DataFrame) -> pl.DataFrame:
    """Each group competes among the copies written for it (the library's column of the grouping,
    e.g. ``segment``) and the copies written for nobody in particular; a group the library wrote
    nothing for competes among all."""
    written = pl.col("written_for").cast(pl.String)
    has_own = pl.col("group").is_in(scores.get_column("written_for").cast(pl.String).drop_nulls().implode())
    return scores.filter(~has_own | written.is_null() | (written == pl.col("group")))


def run_segment(
    logs: str | Path, config: CampaignConfig, *, out: str | Path, k: int = 5, seed: int = 0
) -> dict[str, Any]:
    """Cluster the log's shoppers into ``k`` named profiles; write profiles.json and the
    customer -> profile table."""
    log = load_log(logs, config)
    actions = training_actions(log)
    shoppers = shopper_population(log, actions, seed=seed).frame if log.frame.height else log.frame
    dynamic = set(state_columns(config))
    numeric = [c for c in log.numeric_features if c not in dynamic and not c.startswith("consent_")]
    categorical = [c for c in log.categorical if c not in dynamic]
    if not numeric and not categorical:
        raise InputError(f"{logs}: the log has no shopper features to profile on")
    if shoppers.height < k:
        raise InputError(f"{logs}: {shoppers.height} shoppers cannot form {k} profiles")
    labels, profiles = segment_shoppers(shoppers, numeric=numeric, categorical=categorical, k=k, seed=seed)
    out = Path(out)
    summary = {
        "source": str(logs),
        "k": k,
        "seed": seed,
        "features": numeric + categorical,
        "profiles": [
            {
                "key": f"profile_{i + 1}",
                "name": p.name,
                "size": p.size,
                "share": round(p.share, 4),
                "description": p.description,
                "means": {c: round(v, 4) for c, v in p.means.items()},
            }
            for i, p in enumerate(profiles)
        ],
    }
    table = shoppers.select("customer_id").with_columns(
        pl.Series("profile", [f"profile_{i + 1}" for i in labels])
    )
    with atomic_path(out / "profiles.parquet") as tmp:
        table.write_parquet(tmp)
    write_text_atomic(out / PROFILES_FILE, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
