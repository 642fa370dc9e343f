"""Cutting missing splits (stratified, seeded) and checking that train and test share no text."""

from __future__ import annotations

import logging

import pandas as pd

from stance.errors import DataError
from stance.labels import LABELS

log = logging.getLogger(__name__)


def fill_missing_splits(frames: dict, wanted: tuple[str, ...], cfg, seed: int) -> dict:
    missing = [split for split in wanted if split not in frames]
    if not missing:
        return frames
    # cut the missing splits from the training file when there is one, else from what there is
    donor = "train" if "train" in frames else next(iter(frames))
    fractions = cfg.split_fractions
    pool = frames[donor]
    total = len(pool)
    for split in missing:
        # fractions are of the donor file as read, not of what is left of it
        pool, frames[split] = _stratified_cut(pool, fractions[split] * total / len(pool), seed, source=cfg[donor])
        log.info("split %r: %d rows cut from %s (stratified, seed %d)", split, len(frames[split]), cfg[donor], seed)
    frames[donor] = pool
    return frames


def _stratified_cut(frame: pd.DataFrame, share: float, seed: int, source) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into (rest, cut) with rows of the same text kept on one side."""
    from sklearn.model_selection import train_test_split

    keys = frame["text"].map(normalize_text)
    groups = frame.assign(key=keys).groupby("key", sort=False)["label"].first()
    try:
        rest_keys, cut_keys = train_test_split(
            groups.index.to_numpy(), test_size=share, random_state=seed, stratify=groups.to_numpy()
        )
    except ValueError as exc:
        raise DataError(f"{source}: cannot make a stratified split ({exc})") from None
    in_cut = keys.isin(set(cut_keys))
    return frame[~in_cut].reset_index(drop=True), frame[in_cut].reset_index(drop=True)


def normalize_text(text: str) -> str:
    """The form under which two texts count as the same for overlap checks."""
    return " ".join(text.lower().split())


def check_overlap(frames: dict, on_overlap: str) -> None:
    if "train" not in frames or "test" not in frames:
        return
    shared = set(frames["train"]["text"].map(normalize_text)) & set(frames["test"]["text"].map(normalize_text))
    if not shared:
        return
    example = next(iter(shared))
    message = f"{len(shared)} texts occur in both train and test, e.g. {example[:80]!r}"
    if on_overlap == "warn":
        log.warning(message)
    else:
        raise DataError(message + " (set data.on_overlap=warn to only warn)")


# Below these, scores mislead: a label with fewer training examples is barely learnt (the bundled
# corpus has about 1,200 a label), and on a smaller dev or test split one row moves accuracy by 2+ points.
ENOUGH_PER_LABEL = 100
ENOUGH_TO_SCORE = 50


def data_warnings(splits) -> list[str]:
    """What makes a training run on these splits untrustworthy, in words a user can act on."""
    warnings = []
    counts = dict.fromkeys(LABELS, 0)
    for label in splits["train"]["label"]:
        counts[LABELS[label]] += 1
    absent = [label for label, count in counts.items() if not count]
    if len(absent) == len(LABELS) - 1:
        only = next(label for label, count in counts.items() if count)
        warnings.append(f"train holds only {only!r} examples: the model can only learn to say {only!r}; "
                        "check data.label_column and data.label_map")
    elif absent:
        warnings.append(f"train has no {' or '.join(map(repr, absent))} examples: the model cannot learn to say them")
    few = {label: count for label, count in counts.items() if 0 < count < ENOUGH_PER_LABEL}
    if few and len(absent) < len(LABELS) - 1:
        shown = ", ".join(f"{label} {count}" for label, count in counts.items())
        warnings.append(f"train has few examples ({shown}): expect a weak model; "
                        f"aim for at least {ENOUGH_PER_LABEL} a label (the bundled corpus has about 1,200)")
    for split in ("dev", "test"):
        n = len(splits[split]) if split in splits else ENOUGH_TO_SCORE
        if n < ENOUGH_TO_SCORE:
            warnings.append(f"{split} has {n} rows: one row moves its accuracy by {100 / n:.0f} points, so its scores "
                            f"{'(and the epoch they pick) ' if split == 'dev' else ''}say little; "
                            f"give at least {ENOUGH_TO_SCORE} (data.{split}=FILE, or more data)")
    return warnings
