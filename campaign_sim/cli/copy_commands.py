"""``campaign-sim copy ...`` and ``campaign-sim segment``: copy library and shopper profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaign_sim.cli.common import (
    ConfigOption,
    DatasetOption,
    JsonOption,
    QuietOption,
    SetOption,
    config_from_options,
    out_console,
    print_json,
    progress,
)
from campaign_sim.core.config import MAX_SEED
from campaign_sim.core.errors import InputError
from campaign_sim.llm.guardrails import DEFAULT_BANNED

copy_app = typer.Typer(help="Generate, vet and score marketing copy.", no_args_is_help=True)

EncoderOption = Annotated[
    str, typer.Option("--encoder", help="Text encoder: hashing (fast, no model) or minilm (MiniLM-L6).")
]


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"--discounts: expected comma-separated fractions like 0,0.1,0.2; got {text!r}"
        ) from None
    if not values or any(not 0 <= v < 1 for v in values):
        raise InputError(f"--discounts: expected fractions in [0, 1); got {text!r}")
    return values


def _angles(text: str) -> tuple[str, ...]:
    from campaign_sim.llm.generators import ANGLES

    if text.strip() == "none":
        return ("",)
    wanted = tuple(a.strip() for a in text.split(",") if a.strip())
    if not wanted or any(a not in ANGLES for a in wanted):
        raise InputError(f"--angles {text!r}: expected angles among {', '.join(ANGLES)}, or 'none'")
    return wanted


@copy_app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Directory for copies.parquet.")] = Path("runs/copy"),
    per_offer: Annotated[
        int, typer.Option("--per-offer", min=1, help="Copies per profile x offer x channel x angle.")
    ] = 1,
    angles: Annotated[
        str,
        typer.Option("--angles", help="Angles to write from (comma-separated), or 'none' for no angle."),
    ] = "value,urgency,social_proof,personal",
    generator: Annotated[
        str,
        typer.Option("--generator", help="template, smollm2 (offline LLM) or auto (smollm2 when installed)."),
    ] = "template",
    encoder: EncoderOption = "hashing",
    profiles: Annotated[
        Path | None, typer.Option("--profiles", help="profiles.json from `campaign-sim segment`.")
    ] = None,
    discounts: Annotated[str, typer.Option("--discounts", help="Offers as fractions.")] = "0,0.1,0.2",
    channels: Annotated[str, typer.Option("--channels", help="Channels to write for.")] = "email,sms,push",
    banned: Annotated[
        list[str] | None, typer.Option("--banned", help="Banned phrase (repeatable; replaces the defaults).")
    ] = None,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Regenerations before the template.")] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED)] = 0,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Write a copy library: every copy passes the guardrails (offer, length, banned, duplicates)."""
    from campaign_sim.workflows.copywriting import (
        COPY_CHANNELS,
        check_generator,
        copy_requests,
        load_profiles,
        run_copy_generate,
    )

    check_generator(generator)
    wanted = [c.strip() for c in channels.split(",") if c.strip()]
    unknown = [c for c in wanted if c not in COPY_CHANNELS]
    if unknown or not wanted:
        raise InputError(f"--channels {channels!r}: expected channels among {', '.join(COPY_CHANNELS)}")
    requests = copy_requests(
        load_profiles(profiles),
        discounts=_floats(discounts),
        channels=wanted,
        per_offer=per_offer,
        angles=_angles(angles),
    )
    with progress(f"writing {len(requests)} copies with {generator}", quiet=quiet or json):
        result = run_copy_generate(
            out,
            requests=requests,
            generator=generator,
            encoder=encoder,
            banned=tuple(banned) if banned else DEFAULT_BANNED,
            retries=retries,
            seed=seed,
        )
    summary = {k: v for k, v in result.summary.items() if k != "rejections"}
    if json:
        print_json(summary)
        return
    out_console.print(
        f"{summary['copies']} copies -> {result.path} (generator {summary['generator']}, acceptance "
        f"{summary['acceptance_rate']:.0%}, {summary['template_fallbacks']} template fallbacks, "
        f"{summary['dropped_as_duplicates']} dropped as duplicates, {summary['seconds']:.1f} s)",
        markup=False,
        soft_wrap=True,
    )


@copy_app.command("score")
def score(
    world: Annotated[Path, typer.Option("--world", help="Fitted world directory (runs/X/world).")],
    library: Annotated[Path, typer.Option("--library", help="Copy library (Parquet).")],
    encoder: EncoderOption = "hashing",
    by: Annotated[
        str | None, typer.Option("--by", help="Shopper column to group by (default: segment).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Copies shown per group.")] = 3,
    logs: Annotated[
        Path | None,
        typer.Option(
            "--logs", help="The log the world was fitted on: corrects each offer's lift by its residuals."
        ),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Rank copies per shopper group by predicted incremental profit, with a 95% interval that
    widens with the copy's distance from the logged copies."""
    from campaign_sim.data.log import load_log
    from campaign_sim.simulators.fitted.world import FittedWorld
    from campaign_sim.workflows.copywriting import run_copy_score

    if not library.exists():
        raise InputError(f"{library}: no such file (--library expects a copy library, Parquet)")
    history = None if logs is None else load_log(logs, FittedWorld.load(world).config).frame
    scores = run_copy_score(world, library, encoder=encoder, by=by, top=top, history=history)
    if json:
        print_json(scores.to_dicts())
        return
    for row in scores.iter_rows(named=True):
        out_console.print(
            f"{row['group']:>14} #{row['rank']} {row['copy_id']:<18} profit {row['profit_lift']:+.3f} "
            f"[{row['profit_low']:+.3f}, {row['profit_high']:+.3f}] visit {row['visit_lift']:+.4f}  "
            f"{row['text'].splitlines()[0][:60]}",
            markup=False,
            soft_wrap=True,
        )


@copy_app.command("adopt")
def adopt(
    world: Annotated[Path, typer.Option("--world", help="Fitted world directory (runs/X/world).")],
    library: Annotated[Path, typer.Option("--library", help="Copy library (Parquet).")],
    copy: Annotated[
        list[str] | None,
        typer.Option("--copy", help="A copy_id to add (repeatable; default: the best scored)."),
    ] = None,
    per_group: Annotated[
        int,
        typer.Option("--per-group", min=1, help="Without --copy: each group's best scored copies to add."),
    ] = 1,
    any_profile: Annotated[
        bool,
        typer.Option("--any-profile", help="Let a copy written for one profile go to any customer."),
    ] = False,
    encoder: EncoderOption = "hashing",
    json: JsonOption = False,
) -> None:
    """Make library copies actions of a fitted world, so agents can choose them, each with the
    offers and channels its guardrails pass and for the profile it was written for (no logged
    support: business-as-usual never sends them, a pilot is how to learn them)."""
    from campaign_sim.llm.encoders import make_encoder
    from campaign_sim.workflows.copy_adopt import run_copy_adopt

    if not library.exists():
        raise InputError(f"{library}: no such file (--library expects a copy library, Parquet)")
    adopted = run_copy_adopt(
        world,
        library,
        encoder=make_encoder(encoder),
        copy_ids=copy,
        per_group=per_group,
        any_profile=any_profile,
    )
    if json:
        print_json(adopted.to_dict())
        return
    for line in adopted.lines():
        out_console.print(line, markup=False, soft_wrap=True)


def segment(
    logs: Annotated[Path, typer.Argument(help="Campaign log (.parquet or .csv).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for profiles.json.")] = Path("runs/profiles"),
    k: Annotated[int, typer.Option("--k", min=2, max=50, help="Number of profiles.")] = 5,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED)] = 0,
    config: ConfigOption = None,
    dataset: DatasetOption = None,
    overrides: SetOption = None,
    json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Cluster shoppers into named profiles (k-means on standardised features)."""
    from campaign_sim.workflows.copywriting import run_segment

    resolved = config_from_options(config, dataset, overrides)
    with progress(f"profiling the shoppers of {logs}", quiet=quiet or json):
        summary = run_segment(logs, resolved, out=out, k=k, seed=seed)
    if json:
        print_json(summary)
        return
    for p in summary["profiles"]:
        out_console.print(
            f"{p['key']}: {p['name']} ({p['share']:.0%}) - {p['description']}", markup=False, soft_wrap=True
        )
    out_console.print(f"profiles -> {Path(out) / 'profiles.json'}", markup=False)
