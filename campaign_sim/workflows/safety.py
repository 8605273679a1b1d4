"""Safe policy improvement from a history alone: fit, propose, select and gate on separate customers.

High-confidence policy improvement (Thomas, Theocharous & Ghavamzadeh, ICML 2015): the log is
split by customer into three parts. On the first, a world is fitted and the candidates are built
(Π≤b-SPIBB policies over a grid of support thresholds N∧ and pessimism, and the behaviour policy
itself, business-as-usual). On the second, each candidate's gain over business-as-usual is
estimated and the one with the highest lower bound is chosen; on the third, that one candidate
alone is gated: GO only when the lower 95% bound of (candidate − business-as-usual) clears zero.
No number shown is computed on data that chose it.

The gain is estimated from the held-out log itself (``ope.first_order``: one importance ratio
per decision times the logged return-to-go), not by simulating the fitted world: measured on
the synthetic world, fitted worlds overstate a SPIBB policy's gain several times over (+1.42 in
a world fitted on the gate customers against +0.10 in truth; even a period-0 difference had the
wrong sign), and bootstrapping the fit cannot see a bias every fit shares.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from campaign_sim.agents.spibb import (
    ActionValues,
    BehaviourPolicy,
    MixturePolicy,
    SpibbPolicy,
    ValueStates,
    action_values,
    value_states,
)
from campaign_sim.core.tasks import TaskMap, run_here
from campaign_sim.data import schema as S
from campaign_sim.data.bandit import flat_action_index
from campaign_sim.data.log import CampaignLog
from campaign_sim.ope.first_order import FirstOrderGain, first_order_gain
from campaign_sim.simulators.fitted.behaviour import logged_allowed
from campaign_sim.simulators.fitted.fit import MemberRunner, fit_world
from campaign_sim.simulators.fitted.world import FittedWorld

PARTS = ("fit", "select", "gate")
SHARES = (0.5, 0.25, 0.25)
N_MIN_GRID = (25, 100, 400, 1_600)
PESSIMISM_GRID = (0.0, 1.0)
SHARE_GRID = (1.0, 0.5, 0.25)  # roll-out shares of a SPIBB policy (the rest: business-as-usual)
# The first-order gain drops the change's effect on later states. Measured on an exploring
# history (bench_safety), candidates whose mean |π/π_b - 1| over logged decisions was at most
# 0.31 had their true gain inside the interval; at 0.77-1.29 it fell outside, on the wrong side
# (-7 claimed for +1.6). Beyond this the gain is "not estimable" however narrow the interval.
MAX_MOVED = 0.5
# Pareto k̂ above which the per-customer terms are too heavy-tailed for any interval (PSIS, 0.7)
MAX_TAIL = 0.7
BASELINE = "business-as-usual"
# A 95% interval wider (half-width) than this share of the logged value per customer cannot tell
# a launch-worthy change from noise: the gain is "not estimable from this history", no point shown.
NOT_ESTIMABLE_SHARE = 0.2


@dataclass(frozen=True)
class SafetySettings:
    """How much work the pipeline does (the defaults are the product's)."""

    n_min_grid: tuple[int, ...] = N_MIN_GRID
    pessimism_grid: tuple[float, ...] = PESSIMISM_GRID
    share_grid: tuple[float, ...] = SHARE_GRID


@dataclass(frozen=True)
class Difference:
    """V(policy) − V(business-as-usual) per customer over the campaign, with its 95% interval."""

    policy: str
    mean: float
    low: float
    high: float
    max_ratio: float  # largest π/π_b over the scored decisions
    logged_value: float  # the logging policy's value per customer on the same customers
    moved: float = 0.0  # mean |π/π_b − 1| over the scored decisions: how far from the log
    single_period: bool = False  # one decision per customer: the first-order gain is exact IPS
    tail: float = 0.0  # Pareto k̂ of the per-customer terms (ope.first_order.tail_index)

    @property
    def clears_zero(self) -> bool:
        return bool(self.low > 0.0)

    @property
    def near_log(self) -> bool:
        """Close enough to the logging policy for the first-order estimate to hold (any policy
        of a single-period log: there are no later states to miss)."""
        return bool((self.single_period or self.moved <= MAX_MOVED) and self.tail <= MAX_TAIL)

    @property
    def estimable(self) -> bool:
        half = (self.high - self.low) / 2
        narrow = half <= NOT_ESTIMABLE_SHARE * abs(self.logged_value)
        return bool(self.near_log and (self.clears_zero or narrow))

    @property
    def go(self) -> bool:
        return bool(self.clears_zero and self.near_log)

    def describe(self) -> str:
        """The interval as a user reads it, or why there is none."""
        if self.tail > MAX_TAIL:
            return (
                f"not estimable from this history (the estimate rests on a few customers: tail index "
                f"{self.tail:.2f} > {MAX_TAIL}; 95% interval {self.low:+.2f} to {self.high:+.2f})"
            )
        if not self.near_log:
            return (
                f"not estimable from this history (departs too far from the logged policy: mean "
                f"|π/π_b − 1| = {self.moved:.2f} > {MAX_MOVED}; 95% interval {self.low:+.2f} to "
                f"{self.high:+.2f})"
            )
        if not self.estimable:
            return (
                f"not estimable from this history (95% interval {self.low:+.2f} to {self.high:+.2f}, "
                f"wider than ±{NOT_ESTIMABLE_SHARE:.0%} of the logged {self.logged_value:.2f} per customer)"
            )
        return f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}]"


@dataclass(frozen=True)
class SafetyResult:
    """The recommendation and the evidence for it, each number from its own customers."""

    recommended: str  # the candidate on GO, else business-as-usual
    candidate: str  # the selection's choice, whatever the gate said
    go: bool
    gate: Difference  # the candidate scored on the gate customers (zero for business-as-usual)
    selection: tuple[Difference, ...]  # every candidate, scored on the selection customers
    customers: dict[str, int]
    fit_world: FittedWorld
    policies: dict[str, Policy]
    fit_log: CampaignLog  # the fit customers' part of the log

    @property
    def policy(self) -> Policy:
        return self.policies[self.recommended]

    def lines(self) -> list[str]:
        c = self.customers
        out = [
            f"customers: {c['fit']:,} fit the world and the candidates, {c['select']:,} select, "
            f"{c['gate']:,} gate",
            "gain over business-as-usual per customer and campaign, on the selection customers "
            "(first-order off-policy estimate, 95% interval):",
        ]
        out += [f"  {d.policy:<24} {d.describe()}  max weight {d.max_ratio:,.0f}" for d in self.selection]
        if self.candidate == BASELINE:
            out.append("no candidate's lower bound clears zero: keep business-as-usual (NO-GO)")
        else:
            g = self.gate
            verdict = "GO" if self.go else "NO-GO: keep business-as-usual; the candidate is one for a pilot"
            out.append(f"gate ({self.candidate}, gate customers only): {g.describe()} -> {verdict}")
        out.append(f"recommended: {self.recommended}")
        return out


def split_customers(log: CampaignLog, *, seed: int) -> dict[str, CampaignLog]:
    """The log's customers shuffled with ``seed`` into the fit / select / gate parts."""
    ids = log.frame.get_column(S.CUSTOMER_ID).unique().sort()
    order = np.random.default_rng([seed, 0x5AFE]).permutation(ids.len())
    bounds = np.cumsum([0, *(int(round(s * ids.len())) for s in SHARES[:-1]), ids.len()])
    parts = {}
    for name, start, stop in zip(PARTS, bounds[:-1], bounds[1:], strict=True):
        chosen = ids.gather(np.sort(order[start:stop]))
        frame = log.frame.filter(pl.col(S.CUSTOMER_ID).is_in(chosen.implode()))
        parts[name] = replace(log, frame=frame, source=f"{log.source} ({name} customers)")
    return parts


Policy = BehaviourPolicy | SpibbPolicy | MixturePolicy


VALUE_CHUNKS = 8  # pieces the value table's actions are split into (tasks, with ``tasks``)


def candidates(
    world: FittedWorld,
    frame: pl.DataFrame,
    settings: SafetySettings,
    *,
    seed: int,
    tasks: TaskMap = run_here,
) -> dict[str, Policy]:
    """Business-as-usual (the behaviour model) and Π≤b-SPIBB policies over the grids. The
    actions' values are computed once for every pessimism level, in chunks mapped by ``tasks``."""
    states = value_states(world, frame, seed=seed)
    chunks = np.array_split(np.arange(world.config.actions.n_actions), VALUE_CHUNKS)
    pieces = [range(c[0], c[-1] + 1) for c in chunks if c.size]  # fewer actions than chunks: fewer
    values = ActionValues.join(tasks(_values_of, pieces, world, states))
    out: dict[str, Policy] = {BASELINE: BehaviourPolicy(world, name=BASELINE)}
    for pessimism in settings.pessimism_grid:
        table = states.table(values, pessimism=pessimism)
        for n_min in settings.n_min_grid:
            name = f"spibb N∧={n_min} λ={pessimism:g}"
            spibb = SpibbPolicy(world, table, n_min=n_min, name=name)
            for share in settings.share_grid:
                label = name if share == 1.0 else f"{name} at {share:.0%}"
                out[label] = spibb if share == 1.0 else MixturePolicy(spibb, share=share, name=label)
    return out


def _values_of(actions: range, world: FittedWorld, states: ValueStates) -> ActionValues:
    return action_values(world, states, actions)


@dataclass(frozen=True)
class HeldOutLog:
    """A held-out part of the log as (customers, periods) arrays plus what policies read."""

    reward: np.ndarray
    propensity: np.ndarray
    active: np.ndarray
    actions: np.ndarray  # (rows,) flat logged action
    cells: tuple[np.ndarray, np.ndarray]  # (customer, period) of each row
    x: np.ndarray  # (rows, shopper_dim) encoded by the candidates' world
    raw: dict[str, np.ndarray]  # dynamic-state columns per row
    allowed: np.ndarray  # (rows, n_actions) actions the env would allow at the logged state
    features: np.ndarray  # (rows, k) state features the return-to-go baseline reads
    baseline: np.ndarray | None = None  # (customers, periods) predicted return-to-go

    def to_go(self) -> np.ndarray:
        """(rows,) each logged decision's return-to-go."""
        rewards = np.where(self.active, self.reward, 0.0)
        return np.cumsum(rewards[:, ::-1], axis=1)[:, ::-1][self.cells]

    def with_baseline(self, weights: np.ndarray) -> HeldOutLog:
        """This log with the return-to-go predicted by ``weights`` (``fit_baseline``)."""
        baseline = np.zeros_like(self.reward)
        baseline[self.cells] = self.features @ weights
        return replace(self, baseline=baseline)

    @property
    def logged_value(self) -> float:
        """The logging policy's realised value per customer over the campaign."""
        return float(np.where(self.active, self.reward, 0.0).sum(axis=1).mean())

    def gain(self, policy: Policy) -> FirstOrderGain:
        probs = policy.probs_at(self.x, self.raw, self.allowed)
        target = np.ones_like(self.reward)
        target[self.cells] = probs[np.arange(self.actions.size), self.actions]
        return first_order_gain(self.reward, self.propensity, target, self.active, baseline=self.baseline)


def held_out(log: CampaignLog, world: FittedWorld) -> HeldOutLog:
    """``log``'s decisions read through ``world`` (its encoding, action space and economics)."""
    frame = log.frame.sort(S.CUSTOMER_ID, S.PERIOD)
    config = world.config
    actions = flat_action_index(frame, config)
    customer = frame.get_column(S.CUSTOMER_ID).rank("dense").cast(pl.Int64).to_numpy() - 1
    period = frame.get_column(S.PERIOD).rank("dense").cast(pl.Int64).to_numpy() - 1
    shape = (int(customer.max()) + 1, int(period.max()) + 1)
    discount = world.discount_of(actions)
    x = world.encoding.shopper_matrix(frame)
    # Revenue at its expectation given the purchase (the world's order-value model), as the
    # simulator values it: order values are lognormal, and one large basket times an importance
    # weight of 100 moved a 20,000-customer gate estimate by +1 per customer (bench_safety).
    # Whether a customer bought stays the logged outcome.
    response = world.predict(x, world.encoding.state_matrix(frame), actions)
    order_value = np.exp(response.log_value_mean + 0.5 * response.value_sigma**2)
    revenue = frame.get_column(S.CONVERSION).to_numpy() * order_value
    profit = revenue * (config.economics.margin - discount) - world.contact_cost_of(actions)
    raw = {c: frame.get_column(c).cast(pl.Float64).to_numpy() for c in world.encoding.state}
    allowed = logged_allowed(frame, config, actions)
    if S.PROPENSITY in frame.columns:
        logged = frame.get_column(S.PROPENSITY).to_numpy()
    else:  # the behaviour model's probability of the logged action (estimated, not recorded)
        logged = world.behaviour_probs(x, raw, allowed)[np.arange(actions.size), actions]
    reward, propensity, active = np.zeros(shape), np.ones(shape), np.zeros(shape, dtype=bool)
    reward[customer, period], propensity[customer, period], active[customer, period] = profit, logged, True
    periods = np.eye(shape[1])[period]  # the return-to-go shrinks as the campaign ends
    features = np.column_stack([x, world.encoding.state_matrix(frame), periods])
    return HeldOutLog(reward, propensity, active, actions, (customer, period), x, raw, allowed, features)


def fit_baseline(log: HeldOutLog, *, ridge: float = 1.0) -> np.ndarray:
    """Ridge weights predicting a decision's return-to-go from its state (never its action)."""
    f, y = log.features, log.to_go()
    return np.linalg.solve(f.T @ f + ridge * np.eye(f.shape[1]), f.T @ y)


def score(name: str, policy: Policy, log: HeldOutLog) -> Difference:
    """``policy``'s first-order gain over the logging policy on ``log``'s customers."""
    gain = log.gain(policy)
    values = (gain.mean, gain.low, gain.high, gain.max_ratio, log.logged_value, gain.moved_share)
    return Difference(
        name, *(float(v) for v in values), single_period=log.reward.shape[1] == 1, tail=gain.tail_index
    )


def _score_named(candidate: tuple[str, Policy], log: HeldOutLog) -> Difference:
    return score(*candidate, log)


@dataclass(frozen=True)
class Workers:
    """Where the pipeline's independent work runs: the ensemble fit and the mapped pieces
    (value-table chunks, candidate scores). The default is here, one after the other."""

    map: TaskMap = run_here
    members: MemberRunner | None = None


def run_safety(
    log: CampaignLog, *, seed: int, settings: SafetySettings | None = None, workers: Workers | None = None
) -> SafetyResult:
    """Fit on one part of the customers, select on another, gate on the third."""
    settings, workers = settings or SafetySettings(), workers or Workers()
    parts = split_customers(log, seed=seed)
    world = fit_world(parts["fit"], seed=seed, member_runner=workers.members).world
    policies = candidates(world, parts["fit"].frame, settings, seed=seed, tasks=workers.map)
    weights = fit_baseline(held_out(parts["fit"], world))  # a control variate from the fit customers
    selection_log = held_out(parts["select"], world).with_baseline(weights)
    proposals = [(name, p) for name, p in policies.items() if name != BASELINE]
    scored = workers.map(_score_named, proposals, selection_log)
    # only candidates close enough to the log for their estimate to hold can be chosen
    best = max(scored, key=lambda d: d.low if d.near_log else -np.inf)
    if not best.go:  # nothing clears business-as-usual on the selection customers
        candidate, gate = BASELINE, Difference(BASELINE, 0.0, 0.0, 0.0, 1.0, selection_log.logged_value)
    else:
        candidate = best.policy
        gate = score(candidate, policies[candidate], held_out(parts["gate"], world).with_baseline(weights))
    customers = {name: part.frame.get_column(S.CUSTOMER_ID).n_unique() for name, part in parts.items()}
    recommended = candidate if gate.go else BASELINE
    return SafetyResult(
        recommended,
        candidate,
        gate.go,
        gate,
        tuple(scored),
        customers,
        world,
        policies,
        parts["fit"],
    )
