"""Where the fitted world misjudges decisions (issue 5 diagnostics), written to BENCHMARKS.md.

The fitted world of bench_agents (200k business-as-usual decisions from the true world) against
the true model, on 6,000 fresh shoppers at their first period: the true value of acting
greedily on the fitted model's expected profit (minus λ x ensemble disagreement) next to the
true best and no contact; the fitted model's error by offer; per segment, the action greedy
picks most and how far the fitted model overstates it; and how many logged purchases stand
behind each segment and offer, which is all a model fitted from this log can learn an offer's
value from. Fitting is the only slow part (~40 s).

Run: .venv/bin/python benchmarks/bench_decisions.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import fitted_from_history, record  # noqa: E402
from campaign_sim.envs.worlds import ObservedThrough  # noqa: E402
from campaign_sim.simulators.interface import WorldResponse  # noqa: E402
from campaign_sim.simulators.state import ShopperState  # noqa: E402
from campaign_sim.simulators.synthetic.population import SEGMENTS  # noqa: E402
from campaign_sim.simulators.synthetic.truth import VALUE_SIGMA  # noqa: E402
from campaign_sim.simulators.synthetic.world import SyntheticWorld  # noqa: E402

SHOPPERS = 6_000
PESSIMISM = (0.0, 1.0, 2.0, 4.0)


def first_period_profits(truth: SyntheticWorld, fitted, shoppers: int) -> dict[str, np.ndarray]:
    """(shoppers, actions) true and fitted expected profit, disagreement, and the allowed mask."""
    seen = ObservedThrough(truth, fitted)
    pool = seen.shopper_pool(shoppers, seed=1)
    rows = pool.rows(np.arange(shoppers))
    state = ShopperState.initial(pool.since_purchase, len(truth.channels), truth.dynamics.contact_window)
    actions = truth.unflatten(np.arange(truth.n_actions))
    discount = np.where(actions[:, 1] > 0, np.asarray(truth.discounts)[actions[:, 0]], 0.0)
    cost = np.asarray(truth.contact_cost)[actions[:, 1]]

    def profit(r: WorldResponse, a: int) -> np.ndarray:
        revenue = r.p_visit * r.p_conversion * np.exp(r.log_value_mean + 0.5 * r.value_sigma**2)
        return revenue * (truth.margin - discount[a]) - cost[a]

    out = {k: np.empty((shoppers, truth.n_actions)) for k in ("true", "fitted", "disagreement")}
    for a in range(truth.n_actions):
        flat = np.full(shoppers, a)
        true, fit = truth.respond(rows, state, flat), fitted.respond(rows, state, flat)
        out["true"][:, a], out["fitted"][:, a] = profit(true, a), profit(fit, a)
        out["disagreement"][:, a] = fit.disagreement
    out["allowed"] = pool.consent[:, actions[:, 1]]
    out["segment"] = rows["segment"]
    return out


def summarise(truth: SyntheticWorld, p: dict[str, np.ndarray]) -> dict:
    n, actions = p["true"].shape[0], truth.unflatten(np.arange(truth.n_actions))
    masked = lambda values: np.where(p["allowed"], values, -np.inf)  # noqa: E731
    greedy = {
        lam: float(p["true"][np.arange(n), masked(p["fitted"] - lam * p["disagreement"]).argmax(1)].mean())
        for lam in PESSIMISM
    }
    error = {}
    for d, level in enumerate(truth.discounts):
        for c, channel in enumerate(truth.channels[1:], start=1):
            cols = np.flatnonzero((actions[:, 0] == d) & (actions[:, 1] == c))
            error[f"{channel}, {level:.0%}"] = float((p["fitted"][:, cols] - p["true"][:, cols]).mean())
    choice, best = masked(p["fitted"]).argmax(1), masked(p["true"]).argmax(1)

    def most_frequent(picked: np.ndarray) -> tuple[int, str, float]:
        values, counts = np.unique(picked, return_counts=True)
        a = int(values[counts.argmax()])
        d, c, k = actions[a]
        label = f"{truth.channels[c]}, {truth.discounts[d]:.0%}, {truth.copy_ids[k]}" if c else "none"
        return a, label, float(counts.max() / picked.size)

    segments = {}
    for s, name in enumerate(SEGMENTS):
        rows = np.flatnonzero(p["segment"] == s)
        a, label, share = most_frequent(choice[rows])
        _, best_label, best_share = most_frequent(best[rows])
        segments[name] = {
            "action": label,
            "share": share,
            "true_best_action": best_label,
            "true_best_share": best_share,
            "fitted": float(p["fitted"][rows, a].mean()),
            "true": float(p["true"][rows, a].mean()),
            "disagreement": float(p["disagreement"][rows, a].mean()),
        }
    return {
        "greedy_true_value": {str(k): v for k, v in greedy.items()},
        "true_best": float(masked(p["true"]).max(1).mean()),
        "no_contact": float(p["true"][:, 0].mean()),
        "fitted_minus_true_by_offer": error,
        "greedy_pick_by_segment": segments,
    }


def logged_purchases(truth: SyntheticWorld, log: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Purchases in the log per segment and offer (channel, discount; copies pooled)."""
    counts = (
        log.filter(pl.col("conversion").cast(pl.Boolean)).group_by("segment", "channel", "discount").len()
    )
    table = {
        name: {offer_name(c, d): 0 for c in truth.channels for d in truth.discounts} for name in SEGMENTS
    }
    for segment, channel, discount, n in counts.iter_rows():
        table[segment][offer_name(channel, discount if channel != "none" else 0.0)] += n
    return {name: {k: v for k, v in row.items() if k in offer_names(truth)} for name, row in table.items()}


def offer_name(channel: str, discount: float) -> str:
    return "none" if channel == "none" else f"{channel}, {discount:.0%}"


def offer_names(truth: SyntheticWorld) -> list[str]:
    return ["none"] + [offer_name(c, d) for c in truth.channels[1:] for d in truth.discounts]


def main() -> None:
    truth = SyntheticWorld.create(seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        generated, _, fit_seconds, fitted = fitted_from_history(Path(tmp))
        out = {"log_rows": generated.rows, "fit_seconds": fit_seconds, "shoppers": SHOPPERS}
        out.update(summarise(truth, first_period_profits(truth, fitted, SHOPPERS)))
        out["logged_purchases"] = logged_purchases(truth, pl.read_parquet(generated.paths["log"]))
    greedy = ", ".join(f"λ = {k}: {v:.3f}" for k, v in out["greedy_true_value"].items())
    offer_errors = "\n".join(f"| {k} | {v:+.3f} |" for k, v in out["fitted_minus_true_by_offer"].items())
    picks = "\n".join(
        f"| {k} | {v['action']} ({v['share']:.0%}) | {v['fitted']:.3f} | {v['true']:.3f} | {v['disagreement']:.3f} | "
        f"{v['true_best_action']} ({v['true_best_share']:.0%}) |"
        for k, v in out["greedy_pick_by_segment"].items()
    )
    offers = offer_names(truth)
    cv = float(np.sqrt(np.expm1(VALUE_SIGMA**2)))  # of one order value
    half = 1.96 * np.sqrt((1 + cv**2) / 30)
    support = "\n".join(
        f"| {name} | " + " | ".join(str(row[o]) for o in offers) + " |"
        for name, row in out["logged_purchases"].items()
    )
    md = f"""## Decisions under the fitted world (issue 5 diagnostics): `benchmarks/bench_decisions.py`

The fitted world of `bench_agents.py` ({out["log_rows"]:,} business-as-usual decisions, fitted in {out["fit_seconds"]:.0f} s) against the true model, on {SHOPPERS:,} fresh shoppers at their first period (expected profit per shopper for that period).

True value of greedy on the fitted model's expected profit minus λ x disagreement: {greedy}. True best: {out["true_best"]:.3f}; no contact: {out["no_contact"]:.3f}.

| segment | greedy's most frequent pick (share) | fitted profit | true profit | disagreement | true best's most frequent pick (share) |
|---|---|---:|---:|---:|---|
{picks}

Fitted minus true expected profit, mean over shoppers and copies, by offer:

| offer | fitted - true |
|---|---:|
{offer_errors}

Purchases in the log behind each segment and offer (copies pooled). With k purchases a cell's revenue per contact is known to about ±1.96·√((1 + cv²)/k), cv = {cv:.2f} being one order value's coefficient of variation: ±{half:.0%} at k = 30. Most cells off the business-as-usual path have fewer.

| segment | {" | ".join(offers)} |
|---|{"---:|" * len(offers)}
{support}

Command: `.venv/bin/python benchmarks/bench_decisions.py`
"""
    record("decisions", md, out)
    print(md)


if __name__ == "__main__":
    main()
