"""Ranking engineers for a dispatch: same region first, then the skill the equipment needs, then
the lightest current load. Pure; the service loads the candidates."""

from __future__ import annotations

from dataclasses import dataclass

# Which skill an equipment model needs, by model prefix (SY = excavators, SAC/STC = cranes...).
MODEL_SKILLS: tuple[tuple[str, str], ...] = (
    ("SAC", "crane"), ("STC", "crane"), ("SCC", "crane"), ("SR", "piling"), ("SY", "excavator"),
)


def required_skill(model: str | None) -> str | None:
    if not model:
        return None
    for prefix, skill in MODEL_SKILLS:
        if model.upper().startswith(prefix):
            return skill
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    engineer_id: int
    name: str
    region_id: int | None
    provider_id: int | None
    skills: tuple[str, ...]
    load: int  # open orders assigned now


@dataclass(frozen=True, slots=True)
class Suggestion:
    candidate: Candidate
    score: int
    reasons: tuple[str, ...]


def rank(candidates: list[Candidate], region_id: int | None, skill: str | None) -> list[Suggestion]:
    ranked = []
    for cand in candidates:
        score, reasons = 0, []
        if region_id is not None and cand.region_id == region_id:
            score += 100
            reasons.append("same region")
        if skill is not None and skill in cand.skills:
            score += 30
            reasons.append(f"skill: {skill}")
        score -= 10 * cand.load
        reasons.append(f"{cand.load} open order{'s' if cand.load != 1 else ''}")
        ranked.append(Suggestion(cand, score, tuple(reasons)))
    return sorted(ranked, key=lambda s: (-s.score, s.candidate.load, s.candidate.engineer_id))
