"""LLM copy benchmarks: text-aware response on unseen copies, SmolLM2 throughput.

1. Text-aware response. A synthetic world whose copy effect is a function of the copy's
   MiniLM embedding (directions in the salient subspace of marketing-copy embeddings, see
   ``salient_truth``). A 200k-decision log rotates 40 copies at random (a creative test);
   a world is fitted with the MiniLM encoder; 20 copies the log never shows are scored
   through the fitted model and compared with their true incremental visit rate and profit.
2. Generation: SmolLM2-135M on one thread builds a copy library through the guardrails;
   accepted copies per minute, acceptance rate, ms per token, model load from the cache.

Run: python benchmarks/bench_llm.py [--skip-generation]   (skipping keeps the recorded part 2)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import record  # noqa: E402
from campaign_sim.data.datasets import resolve_config  # noqa: E402
from campaign_sim.data.log import load_log  # noqa: E402
from campaign_sim.llm.copy_pool import copy_pool  # noqa: E402
from campaign_sim.llm.encoders import MiniLMEncoder  # noqa: E402
from campaign_sim.llm.generators import ANGLES, HFGenerator, TemplateGenerator, ensure_converted  # noqa: E402
from campaign_sim.llm.library import build_library  # noqa: E402
from campaign_sim.simulators.fitted.copy_uncertainty import copy_lift_interval  # noqa: E402
from campaign_sim.simulators.fitted.fit import fit_world  # noqa: E402
from campaign_sim.simulators.synthetic.generate import generate_log  # noqa: E402
from campaign_sim.simulators.synthetic.truth import SEGMENTS  # noqa: E402
from campaign_sim.simulators.synthetic.world import SyntheticWorld  # noqa: E402
from campaign_sim.workflows.copywriting import DEFAULT_PROFILES, copy_requests, run_copy_score  # noqa: E402

LOGGED, UNSEEN = 40, 20


def salient_truth(world: SyntheticWorld, reference: np.ndarray, rng: np.random.Generator) -> SyntheticWorld:
    """Copy directions inside the top principal subspace of a reference set of copy embeddings,
    scaled so 3 e.w has unit spread: a random unit vector in 384 dimensions is nearly
    orthogonal to every copy (MiniLM embeddings are anisotropic) and would make every copy alike."""
    centred = reference - reference.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    basis = components[:8]
    directions = rng.normal(size=(len(SEGMENTS), 8)) @ basis
    spread = (centred @ directions.T).std(axis=0)
    directions /= 3.0 * spread[:, None]
    truth = dataclasses.replace(
        world.truth, copy_directions=tuple(map(tuple, np.round(directions, 6).tolist()))
    )
    return dataclasses.replace(world, truth=truth)


def uniform_policy(pop, state, allowed):  # noqa: ARG001 - the PolicyFn signature
    return allowed / allowed.sum(axis=1, keepdims=True)


def true_lift(
    world: SyntheticWorld, copy: int, *, shoppers: int = 20_000, seed: int = 7
) -> tuple[float, float]:
    """True mean change in P(visit) and expected profit from an e-mail with ``copy``, no discount."""
    pop = world.sample_population(shoppers, np.random.default_rng(seed))
    state = world.initial_state(pop)
    none = np.zeros((shoppers, 3), dtype=np.int64)
    send = np.tile([0, world.channels.index("email"), copy], (shoppers, 1))
    visit = world.response(pop, state, send).p_visit - world.response(pop, state, none).p_visit
    profit = world.expected_reward(pop, state, send) - world.expected_reward(pop, state, none)
    return float(visit.mean()), float(profit.mean())


def text_aware(folder: Path, *, customers: int, periods: int) -> dict:
    encoder = MiniLMEncoder()
    texts = copy_pool(LOGGED + UNSEEN + 200, seed=0)
    reference, pool = texts[LOGGED + UNSEEN :], texts[: LOGGED + UNSEEN]
    ids = ["standard"] + [f"c{i:02d}" for i in range(1, len(pool))]  # the preset's rule names "standard"
    full = SyntheticWorld.create(seed=0, encoder=encoder, copies=dict(zip(ids, pool, strict=True)))
    full = salient_truth(full, encoder.encode(reference), np.random.default_rng(0))
    logged = dataclasses.replace(
        full,
        copy_ids=tuple(ids[:LOGGED]),
        copy_texts=tuple(pool[:LOGGED]),
        copy_embeddings=full.copy_embeddings[:LOGGED],
    )
    started = time.perf_counter()
    generate_log(
        logged, customers=customers, periods=periods, seed=0, policy=uniform_policy
    ).log.write_parquet(folder / "log.parquet")
    config = resolve_config(dataset="synthetic", overrides=[f"actions.copies={json.dumps(ids[:LOGGED])}"])
    log = load_log(folder / "log.parquet", config)
    embeddings = dict(zip(ids[:LOGGED], full.copy_embeddings[:LOGGED], strict=True))
    fitted = fit_world(log, copy_embeddings=embeddings, seed=0).world
    fit_seconds = time.perf_counter() - started
    unseen = np.arange(LOGGED, LOGGED + UNSEEN)
    lift = fitted.copy_lift(
        full.copy_embeddings[unseen], discount=0.0, channel="email", shoppers=fitted.population
    )
    truth = np.array([true_lift(full, int(k)) for k in unseen])
    rho_visit = spearmanr(lift["visit"].mean(axis=0), truth[:, 0]).statistic
    rho_profit = spearmanr(lift["profit"].mean(axis=0), truth[:, 1]).statistic
    offer = {"discount": 0.0, "channel": "email", "shoppers": fitted.population}
    intervals = {
        key: copy_lift_interval(fitted, full.copy_embeddings[unseen], key=key, history=log.frame, **offer)
        for key in ("visit", "profit")
    }
    coverage = {
        key: float(np.mean((iv.low <= truth[:, j]) & (truth[:, j] <= iv.high)))
        for j, (key, iv) in enumerate(intervals.items())
    }
    uncorrected = {
        key: float(
            np.mean(np.abs(truth[:, j] - iv.mean + iv.offset.shift) <= half_width(iv, without_offset=True))
        )
        for j, (key, iv) in enumerate(intervals.items())
    }
    members_only = {
        key: float(np.mean(np.abs(truth[:, j] - iv.mean + iv.offset.shift) <= 1.959964 * iv.members_sd))
        for j, (key, iv) in enumerate(intervals.items())
    }
    winners = profile_winners(fitted, log.frame, folder, encoder)
    seen = np.arange(LOGGED)
    seen_lift = fitted.copy_lift(
        full.copy_embeddings[seen], discount=0.0, channel="email", shoppers=fitted.population
    )
    seen_truth = np.array([true_lift(full, int(k)) for k in seen])
    return {
        "log_rows": log.frame.height,
        "logged_copies": LOGGED,
        "unseen_copies": UNSEEN,
        "fit_seconds": round(fit_seconds, 1),
        "spearman_unseen_visit": round(float(rho_visit), 3),
        "spearman_unseen_profit": round(float(rho_profit), 3),
        "spearman_logged_visit": round(
            float(spearmanr(seen_lift["visit"].mean(axis=0), seen_truth[:, 0]).statistic), 3
        ),
        "true_visit_lift_range": [round(float(truth[:, 0].min()), 4), round(float(truth[:, 0].max()), 4)],
        "copy_coverage_visit": coverage["visit"],
        "copy_coverage_profit": coverage["profit"],
        "uncorrected_coverage_visit": uncorrected["visit"],
        "uncorrected_coverage_profit": uncorrected["profit"],
        "offset_visit": [round(intervals["visit"].offset.shift, 4), round(intervals["visit"].offset.se, 4)],
        "offset_profit": [
            round(intervals["profit"].offset.shift, 4),
            round(intervals["profit"].offset.se, 4),
        ],
        "members_only_coverage_visit": members_only["visit"],
        "members_only_coverage_profit": members_only["profit"],
        **winners,
        "median_distance_unseen": round(float(np.median(intervals["visit"].distance)), 3),
        "mean_interval_width_visit": round(
            float((intervals["visit"].high - intervals["visit"].low).mean()), 4
        ),
        "per_copy": [
            {
                "truth_visit": float(truth[i, 0]),
                "visit": [
                    float(intervals["visit"].low[i]),
                    float(intervals["visit"].mean[i]),
                    float(intervals["visit"].high[i]),
                ],
                "truth_profit": float(truth[i, 1]),
                "profit": [
                    float(intervals["profit"].low[i]),
                    float(intervals["profit"].mean[i]),
                    float(intervals["profit"].high[i]),
                ],
                "distance": float(intervals["visit"].distance[i]),
            }
            for i in range(len(unseen))
        ],
    }


def profile_winners(fitted, history, folder: Path, encoder: MiniLMEncoder) -> dict:
    """``copy score`` of a template library (4 e-mails per profile and discount 0 or 10%) in the fitted world:
    each profile's winner, and the mean pairwise cosine of the winners' MiniLM embeddings."""
    requests = copy_requests(DEFAULT_PROFILES, discounts=(0.0, 0.1), channels=("email",), per_offer=4)
    build = build_library(requests, generator=TemplateGenerator(), encoder=encoder, seed=0)
    build.frame.write_parquet(folder / "copies.parquet")
    fitted.save(folder / "world")
    scores = run_copy_score(
        folder / "world", folder / "copies.parquet", encoder=encoder, by="segment", top=1, history=history
    )
    vectors = encoder.encode(scores.get_column("text").to_list())
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    i, j = np.triu_indices(len(vectors), k=1)
    return {
        "profile_winners": dict(zip(scores["group"], scores["text"], strict=True)),
        "profile_winner_cosine": round(float((vectors[i] * vectors[j]).sum(axis=1).mean()), 3),
        "profile_winners_distinct": scores["text"].n_unique(),
    }


def half_width(interval, *, without_offset: bool) -> np.ndarray:
    """The 95% half-width, optionally without the offset's standard error."""
    sd = (interval.high - interval.low) / (2 * 1.959964)
    if without_offset:
        sd = np.sqrt(np.maximum(sd**2 - interval.offset.se**2, 0.0))
    return 1.959964 * sd


def generation(per_offer: int) -> dict:
    """SmolLM2 through the guardrails on one thread: accepted copies per minute, acceptance, ms/token."""
    ensure_converted()  # the one-time GGUF conversion is not part of the load time
    started = time.perf_counter()
    generator = HFGenerator()
    load_seconds = time.perf_counter() - started
    requests = copy_requests(  # what `copy generate` asks for by default: every angle
        DEFAULT_PROFILES,
        discounts=(0.0, 0.1, 0.2),
        channels=("email", "sms", "push"),
        per_offer=per_offer,
        angles=tuple(ANGLES),
    )
    build = build_library(requests, generator=generator, encoder=MiniLMEncoder(), seed=0)
    from_model = int((build.frame.get_column("generator") == generator.name).sum())
    return {
        "requests": len(requests),
        "load_from_cache_seconds": round(load_seconds, 2),
        "generated": build.generated,
        "accepted_from_model": from_model,
        "acceptance_rate": round(build.acceptance_rate, 3),
        "template_fallbacks": build.fallbacks,
        "seconds": round(build.seconds, 1),
        "accepted_per_minute": round(60 * from_model / build.seconds, 1),
        "ms_per_token": round(1000 * generator.seconds / generator.tokens_generated, 1),
        "rejection_reasons": _reason_counts(build.rejected),
    }


def _reason_counts(rejected: list[tuple[str, tuple[str, ...]]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, reasons in rejected:
        for reason in reasons:
            key = "over the length limit" if "characters (limit" in reason else reason.split(" '")[0]
            key = "states a wrong percentage" if key.startswith("states") else key
            key = "does not state the offer" if key.startswith("does not state") else key
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--periods", type=int, default=4)
    parser.add_argument("--per-offer", type=int, default=1)
    parser.add_argument("--skip-generation", action="store_true")
    parser.add_argument(
        "--reuse-text-aware", action="store_true", help="keep the recorded part 1, rerun part 2"
    )
    args = parser.parse_args()
    previous = Path(__file__).parent / "results" / "llm.json"
    if args.reuse_text_aware and previous.exists():
        response = json.loads(previous.read_text())["text_aware"]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            response = text_aware(Path(tmp), customers=args.customers, periods=args.periods)
    print(json.dumps(response, indent=2))
    gen = None if args.skip_generation else generation(args.per_offer)
    if gen is None and previous.exists():  # keep the generation figures an earlier run recorded
        gen = json.loads(previous.read_text()).get("generation")
    print(json.dumps(gen, indent=2))
    lines = [
        "## LLM copy (`benchmarks/bench_llm.py`)",
        "",
        f"Text-aware response: a {response['log_rows']:,}-decision log rotating {LOGGED} copies at random; world fitted",
        f"with the MiniLM encoder (fit {response['fit_seconds']} s); {UNSEEN} copies never in the log scored by the fitted",
        "model against their true incremental response (e-mail, no discount, mean over the fitted population).",
        "",
        "| Spearman (20 unseen copies) | value | floor |",
        "|---|---|---|",
        f"| incremental visit rate | **{response['spearman_unseen_visit']}** | 0.7 |",
        f"| incremental expected profit | {response['spearman_unseen_profit']} | - |",
        f"| (the {LOGGED} logged copies, visit rate) | {response['spearman_logged_visit']} | - |",
        "",
        "Intervals for the unseen copies' predicted lift (`simulators/fitted/copy_uncertainty.py`): the members' spread",
        "plus 2γ(d), γ the semivariogram of the logged copies' lifts fitted as slope × distance, d the distance to the",
        f"nearest logged copy (median d {response['median_distance_unseen']}), and the log's doubly robust correction",
        "of the offer's lift (IPW mean residual of the e-mail rows minus the no-contact rows, first period, read only from the fit's test customers: cross-fitted; shift ± se:",
        f"visit {response['offset_visit'][0]:+.4f} ± {response['offset_visit'][1]:.4f}, profit {response['offset_profit'][0]:+.3f} ± {response['offset_profit'][1]:.3f}):",
        "",
        "| 95% interval covers the true lift (20 unseen copies) | corrected, distance-aware | no correction, distance-aware | no correction, members' spread alone | floor |",
        "|---|---|---|---|---|",
        f"| incremental visit rate | **{response['copy_coverage_visit']:.0%}** | {response['uncorrected_coverage_visit']:.0%} | {response['members_only_coverage_visit']:.0%} | 90% |",
        f"| incremental expected profit | {response['copy_coverage_profit']:.0%} | {response['uncorrected_coverage_profit']:.0%} | {response['members_only_coverage_profit']:.0%} | - |",
        "",
        f"Mean width of the visit intervals {response['mean_interval_width_visit']} (true lifts {response['true_visit_lift_range'][0]} to {response['true_visit_lift_range'][1]}). The 20 copies share one history and so one draw of the correction: these coverages are those of one history, not of 20 independent ones.",
        "",
        f"Per-profile winners (`copy score` of a template library, 4 e-mails per profile and discount 0 or 10%, each profile ranking the copies written for it): {response['profile_winners_distinct']} distinct winners for 5 profiles, mean pairwise MiniLM cosine of the winners **{response['profile_winner_cosine']}** (1 = the same text).",
    ]
    if gen:
        lines += [
            "",
            f"SmolLM2-135M-Instruct, 1 torch thread, {gen['requests']} requests (5 profiles x 3 offers x 3 channels x 4 angles x {args.per_offer}),",
            "guardrails on, up to 3 regenerations, then the template:",
            "",
            "| measure | value | floor |",
            "|---|---|---|",
            f"| accepted model copies per minute | **{gen['accepted_per_minute']}** | 20 |",
            f"| acceptance rate (per generated text) | {gen['acceptance_rate']:.0%} | - |",
            f"| model load from the safetensors cache | **{gen['load_from_cache_seconds']} s** | 10 s |",
            f"| ms per generated token (batch 16) | {gen['ms_per_token']} | - |",
            f"| template fallbacks | {gen['template_fallbacks']} of {gen['requests']} | - |",
            "",
            "Rejections by reason: "
            + ", ".join(f"{k} {v}" for k, v in gen["rejection_reasons"].items())
            + ".",
        ]
    lines += [
        "",
        "Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_llm.py --skip-generation` (part 1; part 2, SmolLM2 generation, last run with `--reuse-text-aware`, which keeps part 1 as recorded)",
    ]
    record("llm", "\n".join(lines), {"text_aware": response, "generation": gen})


if __name__ == "__main__":
    main()
