"""Off-policy evaluation of campaign policies on the logged history (`campaign-sim evaluate
--policy`, and the report's off-policy column).

Each candidate is asked, at every logged decision, how likely it was to take the logged
action, seeing what the environment would have shown it (``agents.log_replay``). Whole
campaigns are then reweighted: PDIS, weighted PDIS and sequential DR, the last with the fitted
fitted world as its model: the value of the rest of the campaign simulated from each
logged state, after the logged action and under the candidate. The logging policy's own value is the logged
return itself, so candidate - business-as-usual is a paired per-campaign difference. The
launch gate reads the sequential-DR difference (PDIS for ``model_free`` policies) and the
campaign-level weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import numpy as np
import polars as pl

from campaign_sim.agents.log_replay import LogReplay, logged_panel
from campaign_sim.agents.policy import Policy, attach
from campaign_sim.agents.sb3_agents import ALGORITHMS, SB3Policy, load_model
from campaign_sim.core.atomic import atomic_path, write_text_atomic
from campaign_sim.core.errors import InputError
from campaign_sim.core.jsonio import dumps_json, read_json
from campaign_sim.core.run_lock import run_lock
from campaign_sim.core.runs import RunDir
from campaign_sim.core.tasks import TaskMap, run_here
from campaign_sim.data.log import CampaignLog
from campaign_sim.envs.engine import EnvSettings
from campaign_sim.envs.worlds import settings_from
from campaign_sim.ope.gate import launch_gate
from campaign_sim.ope.intervals import DEFAULT_METHOD, interval, paired_difference
from campaign_sim.ope.propensity import estimate_propensities
from campaign_sim.ope.sequential import PDIS, WPDIS, LoggedEpisodes, SeqDR, diagnose_episodes, logged_return
from campaign_sim.simulators.fitted.world import FittedWorld
from campaign_sim.workflows.evaluation import EVALUATION_FILE, Evaluation
from campaign_sim.workflows.log_buckets import estimation_sample, sample_note


class PolicyEstimates(TypedDict):
    """One policy on the logged history (``ope_NAME.json``'s rows)."""

    estimates: dict[str, dict[str, Any]]  # estimator -> value, low, high, method (ope.intervals)
    difference_vs_logged: dict[str, Any]  # the gate estimator's paired difference
    diagnostics: dict[str, Any]  # effective sample size, weights (ope.sequential)
    verdict: dict[str, Any]  # the launch gate (ope.gate)


class OffPolicyResult(TypedDict):
    """``offpolicy_evaluate``'s result, written as ``ope_NAME.json``."""

    source: str
    campaigns: int
    periods: int
    decisions: int
    logged_policy_value: dict[str, Any]
    propensities: str  # "logged" or "estimated"
    propensity_model: dict[str, Any] | None
    warnings: list[str]
    policies: dict[str, PolicyEstimates]
    sample: NotRequired[dict[str, int]]  # a long log's customer sample (log_buckets)
    simulated: NotRequired[dict[str, Any]]  # the policy's simulated value, per world
    held_out: NotRequired[bool]  # in a report: the log is not the world's own


def offpolicy_evaluate(
    policies: dict[str, Policy],
    log: CampaignLog,
    world: FittedWorld,
    settings: EnvSettings,
    *,
    seed: int = 0,
    method: str = DEFAULT_METHOD,
    model_free: tuple[str, ...] = (),
) -> OffPolicyResult:
    """Estimates, intervals, diagnostics and a launch verdict for each policy on ``log``.

    Policies named in ``model_free`` skip sequential DR (its model simulates the rest of the
    campaign from every logged state, which is costly for a policy that itself queries the model
    per action, like myopic greedy); their gate reads PDIS."""
    panel = logged_panel(log, world, horizon=settings.horizon)
    replay = LogReplay(panel, world, settings, seed=seed)
    for policy in policies.values():
        attach(policy, replay.core)
    n, periods = panel.shape
    rows = np.arange(n)
    target = {name: np.zeros((n, periods)) for name in policies}
    q_hat = {name: np.zeros((n, periods)) for name in policies}
    v_hat = {name: np.zeros((n, periods)) for name in policies}
    observations = []
    for t, obs, masks in replay.periods():
        if panel.propensity is None:
            observations.append(obs)
        for name, policy in policies.items():
            probs = replay.core.allowed_probs(policy.action_probs(obs, masks))
            target[name][:, t] = probs[rows, panel.action[:, t]]
            if name not in model_free:
                # model value of the rest of the campaign: after the logged action, and under the policy
                q_hat[name][:, t] = replay.value_to_go(policy, panel.action[:, t], seed=seed)
                v_hat[name][:, t] = replay.value_to_go(policy, seed=seed)
    active = replay.active
    propensity, warnings, estimated = _propensities(panel, observations, active, replay, seed=seed)
    base = LoggedEpisodes(replay.profit, propensity, propensity, active)
    logged = interval(logged_return(base), method=method, seed=seed)
    table: dict[str, PolicyEstimates] = {}
    for name in policies:
        episodes = LoggedEpisodes(
            replay.profit, propensity, target[name], active, q_hat=q_hat[name], v_hat=v_hat[name]
        )
        estimates = {
            "PDIS": interval(PDIS().parts(episodes), method=method, seed=seed),
            "WPDIS": WPDIS().interval(episodes, seed=seed),
        }
        gate_estimator = PDIS() if name in model_free else SeqDR()
        if name not in model_free:
            estimates["SeqDR"] = interval(SeqDR().parts(episodes), method=method, seed=seed)
        difference = paired_difference(
            gate_estimator.parts(episodes), logged_return(base), method=method, seed=seed
        )
        diagnostics = diagnose_episodes(episodes)
        table[name] = {
            "estimates": {k: v.to_dict() for k, v in estimates.items()},
            "difference_vs_logged": difference.to_dict(),
            "diagnostics": diagnostics.to_dict(),
            "verdict": launch_gate(gate_estimator.name, difference, diagnostics).to_dict(),
        }
    return {
        "source": log.source,
        "campaigns": n,
        "periods": periods,
        "decisions": int(active.sum()),
        "logged_policy_value": logged.to_dict(),
        "propensities": "estimated" if estimated is not None else "logged",
        "propensity_model": estimated,
        "warnings": warnings,
        "policies": table,
    }


def _propensities(panel, observations, active, replay, *, seed: int):
    if panel.propensity is not None:
        return np.where(active, panel.propensity, 1.0), [], None
    features = np.stack(observations, axis=1)[active]
    fitted = estimate_propensities(features, panel.action[active], int(np.prod(replay.core.shape)), seed=seed)
    propensity = np.ones(panel.shape)
    propensity[active] = fitted.propensity
    return propensity, [fitted.warning()], fitted.to_dict()


def estimates_frame(result: OffPolicyResult) -> pl.DataFrame:
    """One row per (policy, estimator): value and 95% interval, with the policy's diagnostics."""
    rows = []
    for name, row in result["policies"].items():
        for estimator, e in row["estimates"].items():
            rows.append(
                {
                    "policy": name,
                    "estimator": estimator,
                    "value": e["value"],
                    "low": e["low"],
                    "high": e["high"],
                    "ess": row["diagnostics"]["ess"],
                    "verdict": row["verdict"]["verdict"],
                }
            )
    return pl.DataFrame(rows)


@dataclass(frozen=True)
class OffPolicyRun:
    result: OffPolicyResult
    paths: dict[str, Path]


@dataclass(frozen=True)
class AgentJob:
    """One trained agent to evaluate off-policy: its folder and algorithm."""

    folder: Path
    algo: str

    @staticmethod
    def of(policy_dir: str | Path) -> AgentJob:
        folder = Path(policy_dir)
        meta_path = folder / "agent.json"
        if not meta_path.exists() or not (folder / "model.zip").exists():
            raise InputError(f"{folder}: not a trained agent (expected agent.json and model.zip)")
        algo = read_json(meta_path).get("algo")
        if algo not in ALGORITHMS:
            expected = ", ".join(ALGORITHMS)
            raise InputError(f"{meta_path}: field 'algo' is {algo!r}; expected one of {expected}")
        return AgentJob(folder, algo)


def run_offpolicy(
    policy_dirs: list[Path],
    *,
    logs: str | Path | None = None,
    world_dir: str | Path | None = None,
    seed: int = 0,
    method: str = DEFAULT_METHOD,
    tasks: TaskMap = run_here,
) -> list[OffPolicyRun]:
    """`campaign-sim evaluate --policy runs/X/agents/NAME ...`: each agent (of one run) on the
    logged history, beside its simulated value; JSON + Parquet into ``runs/X/evaluations``. The
    agents are evaluated independently, each one a piece of work ``tasks`` maps."""
    jobs = [AgentJob.of(d) for d in policy_dirs]
    runs = {d.folder.resolve().parent.parent for d in jobs}
    if len(runs) > 1:
        raise InputError(f"--policy: agents of one run at a time (got {', '.join(sorted(map(str, runs)))})")
    run = RunDir(jobs[0].folder.parent.parent)
    with run_lock(run.root):
        world = FittedWorld.load(world_dir or run.world)
        source = logs or world.metadata.get("source")
        if source is None or not Path(source).exists():
            raise InputError(f"{source}: no such log (give --logs PATH)")
        log, sample = estimation_sample(source, world)
        results = tasks(_evaluate_agent, jobs, log, world, (seed, method))
        return [_write(run, job, result, source, sample) for job, result in zip(jobs, results, strict=True)]


def _evaluate_agent(
    job: AgentJob, log: CampaignLog, world: FittedWorld, how: tuple[int, str]
) -> OffPolicyResult:
    seed, method = how
    shape = (len(world.discounts), len(world.channels), len(world.copy_ids))
    policy = SB3Policy(load_model(job.algo, job.folder / "model.zip"), name=job.algo, shape=shape)
    settings = settings_from(world.config, fitted=True, pessimism=0.0)
    return offpolicy_evaluate({job.folder.name: policy}, log, world, settings, seed=seed, method=method)


def _write(run: RunDir, job: AgentJob, result: OffPolicyResult, source, sample) -> OffPolicyRun:  # noqa: ANN001
    result["source"] = str(Path(source).resolve())  # the report reads it from anywhere
    if sample is not None:
        result["sample"] = sample
        result["warnings"].append(sample_note(sample))
    result["simulated"] = _simulated(run, job.algo)
    run.evaluations.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": run.evaluations / f"ope_{job.folder.name}.json",
        "parquet": run.evaluations / f"ope_{job.folder.name}.parquet",
    }
    write_text_atomic(paths["json"], dumps_json(result))
    with atomic_path(paths["parquet"]) as tmp:
        estimates_frame(result).write_parquet(tmp)
    return OffPolicyRun(result, paths)


def _simulated(run: RunDir, name: str) -> dict[str, Any]:
    """The policy's simulated expected profit per shopper in each world it was evaluated in."""
    path = run.evaluations / EVALUATION_FILE
    if not path.exists():
        return {}
    return {
        where: table.policies[name]["expected_profit"].to_json()
        for where, table in Evaluation.load(path).evaluated_in.items()
        if name in table.policies
    }
