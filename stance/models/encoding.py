"""How a (target, statement) pair becomes tokens: the one way training and inference share."""

from __future__ import annotations


def encode_pairs(tokenizer, targets, texts, max_length: int, **kwargs):
    """Tokenize (target, text) pairs to at most ``max_length`` tokens.

    Only the statement is truncated, since the target is what the label is about; a target
    too long to leave the statement any room is cut too (longest first), rather than failing
    the whole batch.
    """
    targets, texts = list(targets), list(texts)
    room = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    lengths = {target: len(ids) for target, ids in zip(*_unique_lengths(tokenizer, targets))}
    long = [i for i, target in enumerate(targets) if lengths[target] >= room]
    if not long:
        return tokenizer(targets, texts, truncation="only_second", max_length=max_length, **kwargs)
    encoded = tokenizer(targets, texts, truncation="longest_first", max_length=max_length, **kwargs)
    short = [i for i in range(len(targets)) if lengths[targets[i]] < room]
    if short:  # the rows with a target of normal length are encoded as always
        usual = tokenizer([targets[i] for i in short], [texts[i] for i in short], truncation="only_second", max_length=max_length, **kwargs)
        for key in encoded.keys():
            for row, i in enumerate(short):
                encoded[key][i] = usual[key][row]
    return encoded


def _unique_lengths(tokenizer, targets: list[str]):
    unique = list(dict.fromkeys(targets))
    return unique, tokenizer(unique, add_special_tokens=False)["input_ids"]
