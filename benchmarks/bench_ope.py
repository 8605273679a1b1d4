"""Off-policy evaluation acceptance figures (issue 7), written to BENCHMARKS.md.

1. Synthetic world: coverage of the 95% intervals (studentized, percentile, normal) of IPS, SNIPS
   and DR at n = 10,000 over 1,000 replications (mix 0.05; the first 200 are the issue's protocol)
   and 200 (mix 0.5). Logged: one decision per shopper under business-as-usual (exact
   propensities); candidate: a mix of business-as-usual and the myopic oracle; reward: sampled
   period profit; truth: the exact expected profit of the candidate. DR's reward model is the
   true response of a DIFFERENT synthetic world (wrong copy effects): a biased model, as in life.
2. Hillstrom (held-out half, propensity 1/3): IPS / SNIPS value of each blanket arm against the
   arm's observed mean; the gate for "always Womens e-mail" against "always Mens e-mail" on visits.
3. OBD: BTS from the random log and random from the BTS log, campaigns all and men
   (``campaign_sim.workflows.ope_benchmarks``: prior_bts.yaml Monte-Carlo probabilities).
4. Speed: DR value plus a 200-resample bootstrap interval on 1M logged rows, 10 actions, beside
   the textbook NumPy loop on the same arrays (ratio; values equal to 1e-9).

Run: .venv/bin/python benchmarks/bench_ope.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import record  # noqa: E402
from campaign_sim.ope.estimators import DR, LoggedBandit, combine  # noqa: E402
from campaign_sim.ope.intervals import interval  # noqa: E402
from campaign_sim.workflows.ope_benchmarks import (  # noqa: E402
    OBP_PUBLISHED as OBP,
)
from campaign_sim.workflows.ope_benchmarks import (
    hillstrom_benchmark,
    obd_benchmark,
    synthetic_coverage,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
HILLSTROM, OBD = SHARED / "hillstrom" / "hillstrom.csv", SHARED / "obd"


def textbook_dr(reward, action, propensity, target, q_hat) -> float:
    """The DR formula as written in the papers, in plain NumPy."""
    rows = np.arange(reward.shape[0])
    w = target[rows, action] / propensity
    return float(np.mean((target * q_hat).sum(axis=1) + w * (reward - q_hat[rows, action])))


def speed(n: int = 1_000_000, actions: int = 10, resamples: int = 200) -> dict:
    """DR value + 200-resample bootstrap interval: ours (one compiled pass over hashed Poisson
    counts) against the textbook loop (recompute DR on 200 resampled data sets), same arrays."""
    rng = np.random.default_rng(0)
    target = rng.dirichlet(np.ones(actions), size=n)
    action = rng.integers(0, actions, n)
    reward, propensity, q_hat = rng.random(n), np.full(n, 1 / actions), rng.random((n, actions))
    data = LoggedBandit(reward, action, propensity, target, q_hat)
    interval(DR().parts(data), method="bootstrap", resamples=8)  # compile the kernel outside the timing
    timings = {}
    for method in ("bootstrap", "studentized"):
        start = time.perf_counter()
        parts = DR().parts(data)
        value = combine(parts)
        ci = interval(parts, method=method, resamples=resamples, seed=0)
        timings[method] = (time.perf_counter() - start, value, ci)
    start = time.perf_counter()
    textbook = textbook_dr(reward, action, propensity, target, q_hat)
    boot_rng = np.random.default_rng(0)
    draws = []
    for _ in range(resamples):
        idx = boot_rng.integers(0, n, n)
        draws.append(textbook_dr(reward[idx], action[idx], propensity[idx], target[idx], q_hat[idx]))
    textbook_low, textbook_high = np.percentile(draws, [2.5, 97.5])
    textbook_seconds = time.perf_counter() - start
    ours, value, ci = timings["bootstrap"]
    return {
        "rows": n,
        "actions": actions,
        "resamples": resamples,
        "seconds": ours,
        "value": value,
        "interval": [ci.low, ci.high],
        "studentized_seconds": timings["studentized"][0],
        "studentized_interval": [timings["studentized"][2].low, timings["studentized"][2].high],
        "textbook_seconds": textbook_seconds,
        "textbook_value": textbook,
        "textbook_interval": [float(textbook_low), float(textbook_high)],
        "speedup": textbook_seconds / ours,
        "value_difference": abs(value - textbook),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    reps = {0.05: 40, 0.5: 20} if args.quick else {0.05: 1000, 0.5: 200}
    out = {
        "synthetic": {str(m): synthetic_coverage(r, 10_000, mix=m) for m, r in reps.items()},
        "hillstrom": hillstrom_benchmark(HILLSTROM),
        "obd": obd_benchmark(OBD),
        "speed": speed(),
    }
    cov = out["synthetic"]
    lines = "\n".join(
        f"| {m} | {table['replications']} | {k} | {method} | **{v['coverage']:.1%}** | {v['coverage_first_200']:.1%} "
        f"| {v['misses_truth_above']} / {v['misses_truth_below']} | {v['mean_width']:.3f} | {table['median_max_weight']:.0f} |"
        for m, table in cov.items()
        for k, methods in table["estimators"].items()
        for method, v in methods.items()
    )
    floor = all(
        0.93 <= cov["0.05"]["estimators"][k]["studentized"]["coverage"] <= 0.97
        for k in ("IPS", "SNIPS", "DR")
    )
    arms = "\n".join(
        f"| {k.replace('|', ' / ')} | {v['observed'][0]:.4f} | {v['IPS'][0]:.4f} [{v['IPS'][1]:.4f}, {v['IPS'][2]:.4f}] | "
        f"{v['SNIPS'][0]:.4f} [{v['SNIPS'][1]:.4f}, {v['SNIPS'][2]:.4f}] | {v['IPS_matches'] and v['SNIPS_matches']} |"
        for k, v in out["hillstrom"]["arms"].items()
    )
    gate = out["hillstrom"]["gate_womens_vs_mens"]
    sp = out["speed"]
    obd_rows = "\n".join(
        f"| {c['campaign']} | {c['target']} from {c['logged']} | {c['truth']:.5f} | {name} | {e['value']:.5f} [{e['low']:.5f}, {e['high']:.5f}] "
        f"| {'yes' if e['truth_inside'] else 'NO'} | {'yes' if e['consistent'] else 'NO'} | {e['relative_error']:.3f} | {OBP.get(name, '-')} |"
        for c in out["obd"]["cells"]
        for name, e in c["estimates"].items()
    )
    missed = sorted(
        {name for c in out["obd"]["cells"] for name, e in c["estimates"].items() if not e["truth_inside"]}
        - {"DM"}
    )
    snips_all = all(c["estimates"]["SNIPS"]["truth_inside"] for c in out["obd"]["cells"])
    md = f"""## Off-policy evaluation (issue 7): `benchmarks/bench_ope.py`

**Synthetic world**, n = 10,000 logged decisions, nominal 95%. DR's reward model is a different world's truth, i.e. biased.
Candidate = (1 - mix) x business-as-usual + mix x myopic oracle. The oracle's discount actions
have tiny logging propensities (explored at a tenth of the weight), so weights reach hundreds.
Intervals: *studentized* = bootstrap-t, 999 Poisson resamples (the default everywhere: `evaluate`,
the report, the gate); *bootstrap* = percentile, 200 resamples; *normal* = delta method. Replications
are seeded `[0, 1000 + rep]`, so the first 200 of the 1,000 are the issue's 200-replication protocol.
Misses are split by side: the truth above the interval / below it.

| mix | replications | estimator | interval | coverage | first 200 | misses above / below | mean width | median max weight |
|---|---:|---|---|---:|---:|---:|---:|---:|
{lines}

Floor (studentized, mix 0.05, IPS, SNIPS and DR all within 93-97%): **{"met" if floor else "NOT met"}**.
At mix 0.5 the weights reach hundreds and no interval covers: the diagnostics (ESS) are what
flags such a policy, and the gate refuses it.

**Hillstrom**, held-out half, visits, propensity 1/3 — blanket policies:

| arm | observed | IPS [95%] | SNIPS [95%] | observed mean inside both |
|---|---|---|---|---|
{arms}

Gate "always Womens e-mail" vs "always Mens e-mail" on visits (SNIPS, paired studentized bootstrap): **{gate["verdict"]}**, difference {gate["difference"]["value"]:+.4f} [{gate["difference"]["low"]:+.4f}, {gate["difference"]["high"]:+.4f}].

**Speed**: DR value + 200-resample bootstrap interval on {sp["rows"]:,} logged rows, {sp["actions"]} actions, same arrays, one run:

| implementation | seconds | value | 95% interval |
|---|---:|---|---|
| campaign-sim (compiled Poisson pass, percentile) | **{sp["seconds"]:.3f}** | {sp["value"]:.12f} | [{sp["interval"][0]:.5f}, {sp["interval"][1]:.5f}] |
| campaign-sim, studentized (200 resamples) | {sp["studentized_seconds"]:.3f} | same | [{sp["studentized_interval"][0]:.5f}, {sp["studentized_interval"][1]:.5f}] |
| plain NumPy textbook (DR recomputed on 200 resampled data sets) | {sp["textbook_seconds"]:.2f} | {sp["textbook_value"]:.12f} | [{sp["textbook_interval"][0]:.5f}, {sp["textbook_interval"][1]:.5f}] |

Speed-up over the textbook loop: **{sp["speedup"]:.0f}x**; values differ by {sp["value_difference"]:.1e} (check: 1e-9).
Floor (≤ 0.5 s; OBP 0.5.7 took 0.70 + 2.70 s here): **{"met" if sp["seconds"] <= 0.5 else "NOT met"}**.

**OBD** (10,000 rows per log; BTS probabilities by 200k Monte-Carlo draws from `prior_bts.yaml`, as OBP does;
reward model for DM/DR: item x slot click rates, 2-fold cross-fitted, shrunk to the slot's rate; studentized
bootstrap, 999 resamples). "inside": the other log's on-policy click rate lies in the estimate's 95% interval. "consistent":
|estimate - truth| within 1.96 x the combined standard error (the truth is itself a ~50-click rate, +-30%).
Relative error beside OBP's published figures (full OBD, BTS from random, campaign all).

| campaign | estimating | truth | estimator | estimate [95%] | inside | consistent | rel. error | OBP published |
|---|---|---|---|---|---|---|---|---|
{obd_rows}

SNIPS (the reported estimator) holds the truth in every cell: **{snips_all}**. DM's bootstrap interval is too
narrow (it resamples rows, not the reward model's own error). Estimating the random policy from the BTS log
puts weights up to ~280 on items BTS rarely shows; estimators that miss a cell apart from DM: {", ".join(missed) or "none"}.
"""
    record("ope", md, out)
    print(md)


if __name__ == "__main__":
    main()
