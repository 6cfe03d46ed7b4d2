"""The rating scale of the contract, and the satisfaction rate."""
from typing import Mapping

SCORES = (5, 4, 3, 2, 1)  # the order the form shows them: best first

LABELS = {
    "zh": {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"},
    "en": {5: "Very satisfied", 4: "Satisfied", 3: "Basically satisfied",
           2: "Dissatisfied", 1: "Very dissatisfied"},
}

SATISFIED_FROM = 3  # 3, 4 and 5 count as satisfied


def is_bad(score: int) -> bool:
    """A bad rating is one scored 1 or 2."""
    return score < SATISFIED_FROM


def counts_from_row(row: Mapping) -> dict[int, int]:
    """The n1..n5 columns of a rollup row as {score: count}."""
    return {score: row[f"n{score}"] or 0 for score in range(1, 6)}


def satisfaction_rate(counts: Mapping[int, int]) -> float | None:
    """The share of ratings scored 3 or more, from 0 to 1; None when there are none."""
    total = sum(counts.values())
    if total == 0:
        return None
    return sum(n for score, n in counts.items() if score >= SATISFIED_FROM) / total


def mean_score(counts: Mapping[int, int]) -> float | None:
    """The mean score; None when there are none."""
    total = sum(counts.values())
    if total == 0:
        return None
    return sum(score * n for score, n in counts.items()) / total
