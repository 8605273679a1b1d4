"""Guardrails every emitted copy passes: the stated offer is the real one, channel length
limits, banned phrases, and (in the library) near-duplicate removal by embedding cosine.

A copy is text; an e-mail copy is ``"subject\\nbody"`` (its first line is the subject).
``check`` returns the reasons a copy is rejected, empty when it passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

LENGTH_LIMITS = {"sms": 160, "push": 120, "email_subject": 78, "email_body": 400}
DEFAULT_BANNED = (
    "guaranteed",
    "risk-free",
    "risk free",
    "act now",
    "click here",
    "winner",
    "cash prize",
    "no strings attached",
    "lowest price",
    "miracle",
)
DUPLICATE_COSINE = 0.95

_NUMBER = r"\d+(?:[.,]\d+)?"
_PERCENT = re.compile(rf"({_NUMBER})\s*(?:%|percent\b|per cent\b|pct\b)", re.IGNORECASE)
_AMOUNT = re.compile(
    rf"[$€£¥]\s*{_NUMBER}|{_NUMBER}\s*(?:[$€£¥]|dollars?\b|euros?\b|pounds?\b|usd\b|eur\b|gbp\b|bucks\b)",
    re.IGNORECASE,
)
_OTHER_OFFER = re.compile(
    r"\b(half[- ]price|half off|bogo|buy one,? get one|2[- ]for[- ]1|two for one|\d+\s*for\s*\d+)\b",
    re.IGNORECASE,
)
_FREE = re.compile(r"\bfree\b(?<!feel free)", re.IGNORECASE)
_DISCOUNT_WORDS = re.compile(
    r"\b(discounts?|discounted|coupons?|promo codes?|vouchers?|% off|sales?|percent(?:ages?)?|reduced)\b",
    re.IGNORECASE,
)
# words of the brief a small model parrots back instead of writing copy
_BRIEF_ECHO = re.compile(
    r"\b(shoppers:|offer:|angle:|stress the|no countdown|no deadline|promotion:|no details|say no|copy:"
    r"|subject line:|full price)",
    re.IGNORECASE,
)
_DAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|midnight|tonight|tomorrow|today)"
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DEADLINE = re.compile(
    rf"\b(today only|tonight only|this weekend only|last chance|final hours?|limited[- ]time"
    rf"|ends? (?:on |at )?{_DAYS}|ends? soon|until {_DAYS}|by {_DAYS}|expires?|expiring|deadline|hurry"
    rf"|{_NUMBER}\s*(?:hours?|hrs?|days?)\s*(?:left|only)|only {_NUMBER}\s*(?:hours?|days?)"
    rf"|\d{{1,2}}/\d{{1,2}}|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+of\s+{_MONTHS})",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{[^}]*\}|<[^>]*>|\bxx+\b|lorem ipsum", re.IGNORECASE)


@dataclass(frozen=True)
class Guardrails:
    """Configurable checks; ``banned`` phrases match case-insensitively on word boundaries."""

    banned: tuple[str, ...] = DEFAULT_BANNED
    duplicate_cosine: float = DUPLICATE_COSINE

    def check(self, text: str, *, discount: float, channel: str) -> tuple[str, ...]:
        """Reasons ``text`` may not be sent for this offer on this channel; () when it passes."""
        reasons = [*_length_reasons(text, channel), *_offer_reasons(text, discount)]
        if not text.strip():
            reasons.append("empty copy")
        if _BRIEF_ECHO.search(text):
            reasons.append(f"echoes the brief {_BRIEF_ECHO.search(text).group(0)!r}")
        if _repetitive(text):
            reasons.append("repeats itself")
        if _PLACEHOLDER.search(text):
            reasons.append(f"unfilled placeholder {_PLACEHOLDER.search(text).group(0)!r}")
        lowered = text.lower()
        for phrase in self.banned:
            if re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", lowered):
                reasons.append(f"banned phrase {phrase!r}")
        return tuple(reasons)

    def near_duplicates(self, embeddings: np.ndarray, accepted: np.ndarray) -> np.ndarray:
        """(n,) bool: rows whose cosine to an accepted embedding (or an earlier row) reaches the bar."""
        keep = np.zeros(len(embeddings), dtype=bool)
        pool = [np.asarray(accepted, dtype=np.float32).reshape(-1, embeddings.shape[1])]
        for i, vector in enumerate(embeddings):
            seen = np.concatenate(pool)
            keep[i] = seen.size > 0 and float((seen @ vector).max()) >= self.duplicate_cosine
            if not keep[i]:
                pool.append(vector[None, :])
        return keep


def _repetitive(text: str) -> bool:
    """A sentence said twice, or a run of the same word: a draft that loops, not copy."""
    sentences = [s.strip().lower() for s in re.split(r"[.!?\n]+", text) if len(s.strip()) > 3]
    words = re.findall(r"[a-z']+", text.lower())
    looping = any(a == b == c for a, b, c in zip(words, words[1:], words[2:], strict=False))
    return looping or len(sentences) != len(set(sentences))


def split_email(text: str) -> tuple[str, str]:
    """(subject, body) of an e-mail copy."""
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip()


def _length_reasons(text: str, channel: str) -> list[str]:
    if channel == "email":
        subject, body = split_email(text)
        out = []
        if len(subject) > LENGTH_LIMITS["email_subject"]:
            out.append(
                f"e-mail subject is {len(subject)} characters (limit {LENGTH_LIMITS['email_subject']})"
            )
        if not body:
            out.append("e-mail has no body line")
        elif len(body) > LENGTH_LIMITS["email_body"]:
            out.append(f"e-mail body is {len(body)} characters (limit {LENGTH_LIMITS['email_body']})")
        return out
    limit = LENGTH_LIMITS.get(channel)
    if limit is not None and len(text) > limit:
        return [f"{channel} copy is {len(text)} characters (limit {limit})"]
    return []


def _offer_reasons(text: str, discount: float) -> list[str]:
    """Every offer claim must be the action's discount; nothing free, no prices, no deadlines."""
    real = round(discount * 100)
    out = []
    stated = {float(m.replace(",", ".")) for m in _PERCENT.findall(text)}
    wrong = sorted(p for p in stated if abs(p - real) > 1e-9)
    if wrong:
        shown = ", ".join(f"{p:g}%" for p in wrong)
        out.append(
            f"states {shown} but the offer is {real}% off" if real else f"states {shown} with no discount"
        )
    if real and real not in stated:
        out.append(f"does not state the {real}% offer")
    if not real and _DISCOUNT_WORDS.search(text):
        out.append(f"promises a discount ({_DISCOUNT_WORDS.search(text).group(0)!r}) the offer does not have")
    for pattern, what in (
        (_AMOUNT, "invented price or amount"),
        (_OTHER_OFFER, "offer other than the real one"),
        (_FREE, "claims something free"),
        (_DEADLINE, "invented deadline"),
    ):
        match = pattern.search(text)
        if match:
            out.append(f"{what} {match.group(0)!r}")
    return out
