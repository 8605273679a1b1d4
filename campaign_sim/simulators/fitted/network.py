"""The multi-head response network and its training (torch, one thread, seeded).

Heads: visit logit, conversion-given-visit logit, mean log order value (with one learned
log-sigma), unsubscribe logit. Each head's loss is averaged over the rows it applies to
(conversion over visits, value over conversions, unsubscribe over contacts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import torch
from torch import nn

from campaign_sim.core.config import WorldConfig

HEADS = ("visit", "conversion", "log_value", "unsubscribe")


@dataclass(frozen=True)
class Targets:
    """Training targets as float32 arrays; ``unsubscribe`` is None when the log lacks it."""

    visit: np.ndarray
    conversion: np.ndarray
    log_value: np.ndarray  # log revenue where converted with revenue > 0, else 0
    has_value: np.ndarray  # converted with revenue > 0
    contacted: np.ndarray
    unsubscribe: np.ndarray | None


PRIOR_SCALE = 1.0  # logit std of the random per-action prior on the visit head
# Learning-rate factors of the wide path over the deep one, per head: fast, so the visit head
# cancels the action prior wherever the log has data within the early-stopping budget; slower
# for the heads trained on few rows, conversion (visits, ~15x fewer) and order value
# (purchases), whose wide weights overfit at 10x: conversion gap closed on the benchmark log
# 89% at 10x, 91% at 3x; the order value of a rare 30% offer came out 67 at 10x, 87 at 3x (true 113).
WIDE_LR_FACTOR = 10.0
WIDE_LR_FACTOR_SPARSE = 3.0
PRIOR_PSEUDO_ROWS = 50.0  # logged rows at which half of an action's prior is cancelled at the start
CHECK_ROWS = 250_000  # training rows between validation checks on large logs
LR_CUTS_TO_CONVERGE = 4  # plateau cuts of the learning rate after which training has converged


class ResponseNet(nn.Module):
    """MLP trunk + four-output head, a linear "wide" path, and a fixed random action prior.

    The prior (Osband et al., 2018: randomized prior functions) adds to each member's logits a
    fixed random offset per flat action. The wide path starts at zero and learns to cancel it
    where the log has data; for an action the log never shows nothing cancels it, so members
    disagree there by construction, and less so the more support an action has.
    """

    def __init__(
        self,
        input_dim: int,
        hidden: tuple[int, ...],
        *,
        prior_rows: slice | None = None,
        prior_offsets: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = input_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.SiLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(width, len(HEADS))
        speed = torch.full((len(HEADS), input_dim), WIDE_LR_FACTOR)
        speed[HEADS.index("conversion")] = WIDE_LR_FACTOR_SPARSE
        speed[HEADS.index("log_value")] = WIDE_LR_FACTOR_SPARSE
        self.wide = ScaledLinear(input_dim, len(HEADS), speed)
        self.log_sigma = nn.Parameter(torch.tensor(0.0))
        prior = torch.zeros(input_dim, len(HEADS))
        if prior_rows is not None and prior_offsets is not None:
            # visit head only: every logged action has enough visits to pin its offset down
            prior[prior_rows, 0] = torch.from_numpy(np.asarray(prior_offsets, dtype=np.float32))
        self.register_buffer("prior", prior)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x)) + self.wide(x) + x @ self.prior


class ScaledLinear(nn.Module):
    """A linear map without bias, ``weight = raw * speed`` elementwise, starting at zero.

    Adam moves ``raw`` about one learning rate a step whatever the gradient's scale, so weight
    (i, j) learns ``speed[i, j]`` times faster: a learning rate per weight, in one parameter."""

    def __init__(self, input_dim: int, outputs: int, speed: torch.Tensor) -> None:
        super().__init__()
        self.raw = nn.Parameter(torch.zeros(outputs, input_dim))
        self.register_buffer("speed", speed.float())

    @property
    def weight(self) -> torch.Tensor:
        return self.raw * self.speed

    @torch.no_grad()
    def set_columns(self, columns: slice, values: torch.Tensor) -> None:
        """Set ``weight[:, columns]`` to ``values``."""
        self.raw[:, columns] = values / self.speed[:, columns]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.T


def stratified_prior(n_actions: int, members: int, *, seed: int) -> np.ndarray:
    """(members, n_actions) prior offsets: per action, the members take the normal quantiles
    (i + 0.5) / members in a random order, so every action gets the same spread across members
    (independent draws would make some actions look certain by luck)."""
    quantiles = np.array([NormalDist().inv_cdf((i + 0.5) / members) for i in range(members)])
    rng = np.random.default_rng(10_007 + seed)
    offsets = np.stack([rng.permutation(quantiles) for _ in range(n_actions)], axis=1)
    return PRIOR_SCALE * offsets


def response_loss(
    out: torch.Tensor, y: dict[str, torch.Tensor], *, with_unsubscribe: bool, log_sigma: torch.Tensor
) -> torch.Tensor:
    """Sum over heads of each head's mean loss on the rows it applies to."""
    bce = nn.functional.binary_cross_entropy_with_logits
    loss = bce(out[:, 0], y["visit"])
    visited = y["visit"] > 0.5
    if visited.any():
        loss = loss + bce(out[visited, 1], y["conversion"][visited])
    valued = y["has_value"] > 0.5
    if valued.any():
        z = (y["log_value"][valued] - out[valued, 2]) / log_sigma.exp()
        loss = loss + (0.5 * z.pow(2) + log_sigma).mean()
    contacted = y["contacted"] > 0.5
    if with_unsubscribe and contacted.any():
        loss = loss + bce(out[contacted, 3], y["unsubscribe"][contacted])
    return loss


def train_member(
    x: np.ndarray,
    targets: Targets,
    *,
    train: np.ndarray,
    valid: np.ndarray,
    config: WorldConfig,
    seed: int,
    bootstrap: bool = False,
    prior_rows: slice | None = None,
    prior_offsets: np.ndarray | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> tuple[ResponseNet, list[float]]:
    """Train one member on ``train`` (a bootstrap resample of it if asked); keep the best
    validation epoch. Members differ by seed: initialisation, batch order and action prior."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    sample = rng.choice(train, size=train.shape[0], replace=True) if bootstrap else train
    model = ResponseNet(x.shape[1], config.hidden, prior_rows=prior_rows, prior_offsets=prior_offsets)
    initialise_heads(model, targets, sample)
    if prior_rows is not None:
        cancel_prior(model, x[sample][:, prior_rows].sum(axis=0), prior_rows)
    # the wide path's columns learn faster than the deep path (ScaledLinear's speeds)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    xs = torch.from_numpy(x)
    ys = {
        name: torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        for name, value in _target_dict(targets).items()
    }
    with_unsub = targets.unsubscribe is not None
    # Validation loss is noisy (rare conversions): on a plateau the learning rate drops 3x, and
    # training stops after ``patience`` checks without improvement. A check comes every epoch,
    # or every CHECK_ROWS rows on a large log, so big logs do not train whole epochs past their best.
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser, factor=0.3, patience=1)
    checks_per_epoch = max(1, round(sample.shape[0] / CHECK_ROWS))
    best, best_state, history, stale = float("inf"), None, [], 0
    for _ in range(config.max_epochs):
        order = sample[rng.permutation(sample.shape[0])]
        for part in np.array_split(order, checks_per_epoch):
            model.train()
            for start in range(0, part.shape[0], config.batch_size):
                index = torch.from_numpy(part[start : start + config.batch_size])
                loss = response_loss(
                    model(xs[index]),
                    {k: v[index] for k, v in ys.items()},
                    with_unsubscribe=with_unsub,
                    log_sigma=model.log_sigma,
                )
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            val = validation_loss(model, xs, ys, valid, with_unsubscribe=with_unsub)
            history.append(val)
            plateau.step(val)
            if on_epoch:
                on_epoch(len(history) - 1, val)
            if val < best - 1e-5:
                best, stale = val, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                stale += 1
            # After four cuts the learning rate only buys ~1e-5 a check: a million-row log crept
            # on for 15 more checks (25 s) for 0.04% of validation loss. Call that converged.
            converged = (
                optimiser.param_groups[0]["lr"] < config.learning_rate * 0.3**LR_CUTS_TO_CONVERGE * 1.01
            )
            if stale >= config.patience or converged:
                break
        if stale >= config.patience or converged:
            break
    model.load_state_dict(best_state)
    return model, history


@torch.no_grad()
def initialise_heads(model: ResponseNet, targets: Targets, rows: np.ndarray) -> None:
    """Start each head at the training data's base rate / mean (and sigma at the log-value spread).

    Without this, a short training (early stopping on a small log) leaves sigma near its start
    of 1, and the lognormal mean exp(mu + sigma^2 / 2) overstates order values by ~15%."""

    def logit(rate: float) -> float:
        rate = min(max(rate, 1e-4), 1 - 1e-4)
        return float(np.log(rate / (1 - rate)))

    visit = targets.visit[rows]
    conversion_rate = targets.conversion[rows].sum() / max(visit.sum(), 1.0)
    valued = targets.has_value[rows] > 0.5
    log_values = targets.log_value[rows][valued]
    contacted = targets.contacted[rows] > 0.5
    unsub_rate = (
        targets.unsubscribe[rows][contacted].mean()
        if targets.unsubscribe is not None and contacted.any()
        else 0.01
    )
    model.head.bias.copy_(
        torch.tensor(
            [
                logit(float(visit.mean())),
                logit(float(conversion_rate)),
                float(log_values.mean()) if log_values.size else 0.0,
                logit(float(unsub_rate)),
            ]
        )
    )
    if log_values.size > 1:
        model.log_sigma.fill_(float(np.log(max(log_values.std(), 1e-3))))


@torch.no_grad()
def cancel_prior(model: ResponseNet, support: np.ndarray, rows: slice) -> None:
    """Start the wide path cancelling a share n / (n + PRIOR_PSEUDO_ROWS) of each action's prior.

    A well-logged action then starts unbiased, an unlogged one keeps its whole prior, and a
    thinly logged one keeps part of it: disagreement shrinks with support, as it should."""
    share = torch.from_numpy(support / (support + PRIOR_PSEUDO_ROWS)).float()
    model.wide.set_columns(rows, -(model.prior[rows] * share[:, None]).T)


@torch.no_grad()
def validation_loss(
    model: ResponseNet,
    xs: torch.Tensor,
    ys: dict[str, torch.Tensor],
    valid: np.ndarray,
    *,
    with_unsubscribe: bool,
) -> float:
    model.eval()
    index = torch.from_numpy(valid)
    out = model(xs[index])
    return float(
        response_loss(
            out,
            {k: v[index] for k, v in ys.items()},
            with_unsubscribe=with_unsubscribe,
            log_sigma=model.log_sigma,
        )
    )


def export_numpy(models: list[ResponseNet]) -> dict[str, np.ndarray]:
    """Stack the members' weights: ``layer{i}.weight`` (M, in, out), ``layer{i}.bias`` (M, out) for
    the MLP, and ``wide`` (M, in, 4): the wide path and the fixed prior folded into one matrix."""
    tensors: dict[str, np.ndarray] = {}
    linears = [[m for m in [*model.trunk, model.head] if isinstance(m, nn.Linear)] for model in models]
    for i in range(len(linears[0])):
        tensors[f"layer{i}.weight"] = np.stack([ls[i].weight.detach().numpy().T for ls in linears])
        tensors[f"layer{i}.bias"] = np.stack([ls[i].bias.detach().numpy() for ls in linears])
    tensors["wide"] = np.stack([(m.wide.weight.detach().T + m.prior).numpy() for m in models])
    tensors["log_sigma"] = np.array([float(m.log_sigma.detach()) for m in models], dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}


def _target_dict(targets: Targets) -> dict[str, np.ndarray]:
    values = {
        "visit": targets.visit,
        "conversion": targets.conversion,
        "log_value": targets.log_value,
        "has_value": targets.has_value,
        "contacted": targets.contacted,
    }
    values["unsubscribe"] = (
        targets.unsubscribe if targets.unsubscribe is not None else np.zeros_like(targets.visit)
    )
    return values
