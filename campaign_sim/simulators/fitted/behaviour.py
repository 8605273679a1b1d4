"""The behaviour (logging) policy as a model: P(logged action | shopper, state).

Safe improvement keeps the behaviour policy's probability wherever the log is thin, so it must
be known at every state an environment produces, not only at logged rows. A small softmax
network over the flat actions, fitted by maximum likelihood on the logged actions (the same
encoded inputs the response model reads), gives it; at run time it is restricted to the actions
allowed (consent, caps, budget) and renormalised. Where the log records propensities, their
agreement with the model is reported (``propensity_error``).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import torch
from torch import nn

from campaign_sim.core.config import CampaignConfig
from campaign_sim.data import schema as S

HIDDEN = 64
EPOCHS = 20
MIN_STEPS = 3_000  # small logs get more epochs: 20 epochs of a 25k-row log are only 120 steps
BATCH = 4096


def logged_allowed(frame: pl.DataFrame, config: CampaignConfig, actions: np.ndarray) -> np.ndarray:
    """(rows, n_actions) flat actions an environment would allow at each logged state: consent and
    unsubscribes when the log has them, the contact cap counted from the customer's logged
    contacts (rows in customer, period order), and the logged action itself."""
    d, c, k = config.actions.shape
    channel = (actions // k) % c
    ok = np.ones((frame.height, c), dtype=bool)
    for j, name in enumerate(config.actions.channels[1:], start=1):
        if f"consent_{name}" in frame.columns:
            ok[:, j] &= frame.get_column(f"consent_{name}").cast(pl.Float64).to_numpy() > 0.5
        if f"unsubscribed_{name}" in frame.columns:
            ok[:, j] &= frame.get_column(f"unsubscribed_{name}").cast(pl.Float64).to_numpy() < 0.5
    limits = config.constraints
    recent = (
        pl.DataFrame(
            {"c": frame.get_column(S.CUSTOMER_ID), "p": frame.get_column(S.PERIOD), "k": channel > 0}
        )
        .select(
            pl.col("k")
            .cast(pl.Int64)
            .shift(1, fill_value=0)
            .rolling_sum(limits.contact_window, min_samples=1)
            .over("c", order_by="p")
        )
        .to_series()
        .to_numpy()
    )
    ok[recent >= limits.max_contacts, 1:] = False
    ok[:, 0] = False  # channel "none" is the single flat action 0, whatever the discount and copy
    allowed = np.repeat(np.repeat(ok, k, axis=1)[:, None, :], d, axis=1).reshape(frame.height, -1)
    allowed[:, 0] = True
    allowed[np.arange(frame.height), actions] = True
    return allowed


def fit_behaviour(
    inputs: np.ndarray,
    actions: np.ndarray,
    allowed: np.ndarray,
    *,
    train: np.ndarray,
    valid: np.ndarray,
    seed: int,
    propensity: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Weights of the behaviour model (``behaviour.*`` tensors), best validation epoch kept. The
    likelihood is over the actions allowed at each logged row, as the logging policy chose.
    When the log records ``propensity``, the model is also fitted to it (squared error of the
    log-probability of the logged action: a recorded probability says far more than one draw)."""
    n_actions = allowed.shape[1]
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 0xB1])
    model = nn.Sequential(nn.Linear(inputs.shape[1], HIDDEN), nn.SiLU(), nn.Linear(HIDDEN, n_actions))
    prior = np.bincount(actions[train], minlength=n_actions) + 0.5
    with torch.no_grad():  # start at the marginal action shares
        model[2].bias.copy_(torch.from_numpy(np.log(prior / prior.sum()).astype(np.float32)))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    xs, ys = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32)), torch.from_numpy(actions)
    blocked = torch.from_numpy(np.where(allowed, 0.0, -1e9).astype(np.float32))
    cross_entropy = nn.CrossEntropyLoss()

    recorded = None if propensity is None else torch.from_numpy(np.log(propensity).astype(np.float32))

    def loss_fn(logits: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        masked = logits + blocked[rows]
        loss = cross_entropy(masked, ys[rows])
        if recorded is not None:
            logged = torch.log_softmax(masked, dim=1).gather(1, ys[rows][:, None])[:, 0]
            loss = loss + ((logged - recorded[rows]) ** 2).mean()
        return loss

    best, best_state = float("inf"), None
    epochs = max(EPOCHS, -(-MIN_STEPS // max(1, -(-train.shape[0] // BATCH))))
    for _ in range(epochs):
        order = train[rng.permutation(train.shape[0])]
        for start in range(0, order.shape[0], BATCH):
            batch = torch.from_numpy(order[start : start + BATCH])
            optimiser.zero_grad()
            loss_fn(model(xs[batch]), batch).backward()
            optimiser.step()
        with torch.no_grad():
            rows = torch.from_numpy(valid if valid.size else train)
            loss = float(loss_fn(model(xs[rows]), rows))
        if loss < best:
            best, best_state = loss, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return {
        "behaviour.w0": model[0].weight.detach().numpy().T.copy(),
        "behaviour.b0": model[0].bias.detach().numpy().copy(),
        "behaviour.w1": model[2].weight.detach().numpy().T.copy(),
        "behaviour.b1": model[2].bias.detach().numpy().copy(),
    }


def behaviour_probs(weights: dict[str, np.ndarray], inputs: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """(n, n_actions) behaviour probabilities over the ``allowed`` actions of each row."""
    h = inputs @ weights["behaviour.w0"] + weights["behaviour.b0"]
    h = h / (1.0 + np.exp(-h))  # SiLU
    logits = h @ weights["behaviour.w1"] + weights["behaviour.b1"]
    logits = np.where(allowed, logits, -np.inf)
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)
