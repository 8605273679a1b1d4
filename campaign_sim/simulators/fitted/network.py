"""The multi-head response network and its training (torch, one thread, seeded).

Heads: visit logit, conversion-given-visit logit, mean log order value (with one learned
log-sigma), unsubscribe logit. Each head's loss is averaged over the rows it applies to
(conversion over visits, value over conversions, unsubscribe over contacts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


class ResponseNet(nn.Module):
    """An MLP trunk with a four-output head and a learned order-value log-sigma."""

    def __init__(self, input_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = input_dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.SiLU()]
            width = size
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(width, len(HEADS))
        self.log_sigma = nn.Parameter(torch.tensor(0.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


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
    on_epoch: Callable[[int, float], None] | None = None,
) -> tuple[ResponseNet, list[float]]:
    """Train one member on a bootstrap resample of ``train``; keep the best validation epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    sample = rng.choice(train, size=train.shape[0], replace=True) if bootstrap else train
    model = ResponseNet(x.shape[1], config.hidden)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    xs = torch.from_numpy(x)
    ys = {
        name: torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        for name, value in _target_dict(targets).items()
    }
    with_unsub = targets.unsubscribe is not None
    best, best_state, history, stale = float("inf"), None, [], 0
    for epoch in range(config.max_epochs):
        model.train()
        order = sample[rng.permutation(sample.shape[0])]
        for start in range(0, order.shape[0], config.batch_size):
            index = torch.from_numpy(order[start : start + config.batch_size])
            out = model(xs[index])
            loss = response_loss(
                out,
                {k: v[index] for k, v in ys.items()},
                with_unsubscribe=with_unsub,
                log_sigma=model.log_sigma,
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        val = validation_loss(model, xs, ys, valid, with_unsubscribe=with_unsub)
        history.append(val)
        if on_epoch:
            on_epoch(epoch, val)
        if val < best - 1e-5:
            best, stale = val, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
    model.load_state_dict(best_state)
    return model, history


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
    """Stack the members' weights: ``layer{i}.weight`` (M, in, out), ``layer{i}.bias`` (M, out)."""
    tensors: dict[str, np.ndarray] = {}
    linears = [[m for m in model.modules() if isinstance(m, nn.Linear)] for model in models]
    for i in range(len(linears[0])):
        tensors[f"layer{i}.weight"] = np.stack([ls[i].weight.detach().numpy().T for ls in linears])
        tensors[f"layer{i}.bias"] = np.stack([ls[i].bias.detach().numpy() for ls in linears])
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
