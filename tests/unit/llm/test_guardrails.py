"""Guardrails catch every adversarial copy; every library row passes them."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.data.text import HashingEncoder
from campaign_sim.llm.generators import CopyRequest, TemplateGenerator
from campaign_sim.llm.guardrails import Guardrails
from campaign_sim.llm.library import build_library

# (text, discount, channel, what must be named in a reason)
ADVERSARIAL = [
    ("Enjoy 20% off everything!", 0.1, "sms", "states 20%"),
    ("Take 15 percent off new arrivals.", 0.1, "push", "states 15%"),
    ("Save 10% today.", 0.0, "sms", "no discount"),
    ("A discount just for you: see the shop.", 0.0, "push", "promises a discount"),
    ("Use promo code SPRING at checkout.", 0.0, "sms", "promises a discount"),
    ("New styles picked for you.", 0.2, "sms", "does not state the 20%"),
    ("Enjoy 10% off, then 30% off your second item.", 0.1, "sms", "states 30%"),
    ("Dresses from $19.99, enjoy 10% off.", 0.1, "sms", "invented price"),
    ("Enjoy 10% off orders over 50 euros.", 0.1, "sms", "invented price"),
    ("Get £5 back and 10% off.", 0.1, "push", "invented price"),
    ("Half price on all knitwear!", 0.0, "push", "offer other"),
    ("Buy one get one on tees.", 0.0, "sms", "offer other"),
    ("Enjoy 10% off plus free shipping.", 0.1, "sms", "free"),
    ("A free tote with every order.", 0.0, "push", "free"),
    ("Enjoy 10% off, today only!", 0.1, "sms", "deadline"),
    ("20% off ends Sunday.", 0.2, "push", "deadline"),
    ("Last chance: 10% off new arrivals.", 0.1, "sms", "deadline"),
    ("For a limited time, new designs for you.", 0.0, "push", "deadline"),
    ("Only 48 hours left for 20% off.", 0.2, "sms", "deadline"),
    ("10% off until midnight.", 0.1, "push", "deadline"),
    ("Offer expires soon: 10% off.", 0.1, "sms", "deadline"),
    ("20% off, valid until 12/31.", 0.2, "sms", "deadline"),
    ("Enjoy 20% off before March 3rd.", 0.2, "sms", "deadline"),
    ("Hurry, 10% off knitwear.", 0.1, "push", "deadline"),
    ("Guaranteed best style, 10% off.", 0.1, "sms", "banned phrase"),
    ("Act now for 10% off.", 0.1, "sms", "banned phrase"),
    ("Click here for 20% off.", 0.2, "push", "banned phrase"),
    ("You are a winner: 10% off.", 0.1, "sms", "banned phrase"),
    ("Hi [first_name], enjoy 10% off.", 0.1, "sms", "placeholder"),
    ("Enjoy 10% off " + "new styles and more " * 9, 0.1, "sms", "limit 160"),
    ("Enjoy 10% off " + "new styles " * 11, 0.1, "push", "limit 120"),
    ("Enjoy 10% off " + "the very best of the season " * 3 + "\nBody line.", 0.1, "email", "subject"),
    ("Enjoy 10% off this week", 0.1, "email", "no body"),
    ("", 0.0, "sms", "empty"),
]


@pytest.mark.parametrize(("text", "discount", "channel", "reason"), ADVERSARIAL)
def test_every_adversarial_copy_is_caught_with_its_reason(text, discount, channel, reason):
    reasons = Guardrails().check(text, discount=discount, channel=channel)
    assert any(reason in r for r in reasons), (text, reasons)


def test_at_least_thirty_adversarial_cases():
    assert len(ADVERSARIAL) >= 30


@pytest.mark.parametrize(
    ("text", "discount", "channel"),
    [
        ("Enjoy 10% off your next order.", 0.1, "sms"),
        ("Feel free to browse the new arrivals.", 0.0, "push"),
        ("20% off picked for you\nYour favourite looks are now 20% off.", 0.2, "email"),
        ("Fresh linen shirts for summer evenings.", 0.0, "sms"),
    ],
)
def test_honest_copy_passes(text, discount, channel):
    assert Guardrails().check(text, discount=discount, channel=channel) == ()


def test_configured_banned_phrases_replace_the_defaults():
    custom = Guardrails(banned=("new arrivals",))
    assert custom.check("See the new arrivals.", discount=0.0, channel="sms")
    assert custom.check("Act now, see the shop.", discount=0.0, channel="sms") == ()


def test_near_duplicates_by_embedding_cosine():
    encoder = HashingEncoder()
    texts = ["Enjoy 10% off new linen shirts.", "Enjoy 10% off new linen shirts!", "Cosy knits for winter."]
    duplicate = Guardrails().near_duplicates(encoder.encode(texts), np.zeros((0, encoder.dim)))
    assert duplicate.tolist() == [False, True, False]


class Adversary:
    """A generator that writes every kind of bad copy first, then honest copy."""

    name, model = "adversary", "test"

    def generate(self, requests, *, seed, attempt=0):
        if attempt == 0:
            return [ADVERSARIAL[i % len(ADVERSARIAL)][0] for i in range(len(requests))]
        return TemplateGenerator().generate(requests, seed=seed, attempt=attempt)


def test_library_rows_all_pass_and_rejections_are_regenerated():
    requests = [
        CopyRequest(p, "shoppers", d, c)
        for p in ("loyal", "dormant")
        for d in (0.0, 0.1, 0.2)
        for c in ("email", "sms", "push")
    ]
    build = build_library(requests, generator=Adversary(), encoder=HashingEncoder(), seed=3)
    guard = Guardrails()
    assert build.frame.height + build.dropped == len(requests)
    assert build.frame.height >= len(requests) - 2
    for row in build.frame.iter_rows(named=True):
        assert guard.check(row["text"], discount=row["discount"], channel=row["channel"]) == ()
        assert row["guardrail"] == "pass" and -1 <= row["tone_compound"] <= 1
    assert len(build.rejected) >= len(requests) - 2  # the adversarial first attempt was caught
    vectors = np.asarray(build.frame.get_column("embedding").to_list())
    similarity = vectors @ vectors.T - 2 * np.eye(len(vectors))
    assert similarity.max() < guard.duplicate_cosine


def test_template_generator_is_deterministic_and_honest():
    requests = [CopyRequest("loyal", "regulars", d, c) for d in (0.0, 0.1) for c in ("email", "sms", "push")]
    first = TemplateGenerator().generate(requests, seed=1)
    assert first == TemplateGenerator().generate(requests, seed=1)
    for request, text in zip(requests, first, strict=True):
        assert Guardrails().check(text, discount=request.discount, channel=request.channel) == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("No discounts available for now. Take a look!", "promises a discount"),
        ("Shoppers: regulars. Offer: new arrivals.", "echoes the brief"),
        ("10% off style of the day, no countdown. Take a look!", "echoes the brief"),
        ("New styles for you. New styles for you.", "repeats itself"),
        ("Bespoke, bespoke, bespoke knitwear.", "repeats itself"),
    ],
)
def test_degenerate_model_drafts_are_rejected(text, reason):
    assert any(reason in r for r in Guardrails().check(text, discount=0.0, channel="sms"))
