"""The real offline models (MiniLM, SmolLM2): loaded from installed packages, nothing downloaded."""

from __future__ import annotations

import numpy as np
import pytest

from campaign_sim.llm.generators import CopyRequest, HFGenerator, parse_generated
from campaign_sim.llm.guardrails import Guardrails

pytestmark = pytest.mark.llm


@pytest.fixture(scope="module")
def minilm():
    from campaign_sim.llm.encoders import MiniLMEncoder

    return MiniLMEncoder()


def test_minilm_embeddings_are_unit_vectors_and_semantic(minilm):
    texts = ["Cosy knitwear for cold days", "Warm wool jumpers for winter", "Running shoes for your marathon"]
    vectors = minilm.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.1  # knitwear is closer to jumpers
    again = minilm.encode(texts[::-1])  # from the cache, same rows
    assert np.array_equal(again[::-1], vectors)


@pytest.mark.slow
def test_smollm2_writes_reproducible_copy_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    generator = HFGenerator(batch_size=2)
    requests = [
        CopyRequest("loyal", "regular buyers", 0.1, "sms"),
        CopyRequest("dormant", "lapsed", 0.0, "email"),
    ]
    first = generator.generate(requests, seed=5)
    assert first == generator.generate(requests, seed=5)
    assert all(isinstance(t, str) for t in first) and generator.tokens_generated > 0
    assert "\n" in first[1]  # e-mail: subject and body
    assert "\n" not in first[0]  # SMS: one line


def test_drafts_are_trimmed_to_whole_sentences_within_the_limit():
    draft = "Hi there! " + "We love new styles. " * 10 + "Enjoy 10% off."
    text = parse_generated(draft, "push")
    assert len(text) <= 120 and text.endswith(".") and text.startswith("Hi there!")
    assert Guardrails().check(text, discount=0.1, channel="push")  # the offer fell off: rejected, not sent


def test_parse_generated_strips_labels_and_splits_email():
    assert parse_generated('"Enjoy 10% off!"\nSecond line', "sms") == "Enjoy 10% off!"
    assert parse_generated("Subject: New in\nBody: Fresh styles.", "email") == "New in\nFresh styles."
