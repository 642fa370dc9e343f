import pytest

from stance.labels import ID2LABEL, LABEL2ID, LABELS, LabelError, normalize_label


def test_labels_have_a_fixed_order():
    assert LABELS == ("supportive", "reserved", "opposed")
    assert [ID2LABEL[i] for i in range(3)] == list(LABELS)
    assert [LABEL2ID[label] for label in LABELS] == [0, 1, 2]


@pytest.mark.parametrize(
    "alias, label",
    [
        *[(a, "supportive") for a in ("favor", "FAVOUR", "Pro", "support", "for", "supportive")],
        *[(a, "opposed") for a in ("against", "AGAINST", "con", "oppose", "Opposed")],
        *[(a, "reserved") for a in ("none", "NONE", "neutral", "neither", "Hesitant", " reserved ")],
    ],
)
def test_aliases_map_case_insensitively(alias, label):
    assert normalize_label(alias) == label


def test_data_set_codes_map_through_extra_aliases():
    codes = {0: "none", 1: "against", 2: "favor"}
    assert [normalize_label(c, extra_aliases=codes) for c in ("0", "1", "2")] == ["reserved", "opposed", "supportive"]


def test_unknown_label_names_place_value_and_accepted_set():
    with pytest.raises(LabelError) as info:
        normalize_label("maybe", where="train.csv row 7")
    message = str(info.value)
    assert message.startswith("train.csv row 7: unknown label 'maybe'")
    for accepted in ("supportive", "favor", "against", "neutral", "hesitant"):
        assert accepted in message
