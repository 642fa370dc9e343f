"""model/README.md: a Hugging Face model card (YAML header, then sections), written by stance-train."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from stance.artifacts import MODEL_CARD_FILE
from stance.labels import LABELS
from stance.models.build import base_model_id

GUIDELINE = {
    "supportive": "favours the target, argues that it should happen or be prepared, or is ready to take part "
                  "(also when that depends on conditions such as a ceasefire or a mandate)",
    "reserved": "neither endorses nor rejects it: hesitates, hedges, defers, asks for conditions or more study, "
                "or says it is not on the agenda *now* without ruling it out",
    "opposed": "rejects it, for their own country or in general, or warns against it as dangerous or wrong",
}
# data configs whose source the card can name; others are described by their files
KNOWN_DATA = {
    "troop_deployment": ("the corpus bundled with stance (`data/troop_deployment/`): statements written for the project "
                         "and labeled by its guideline (`data/README.md`)", None),
    "tweeteval_stance": ("TweetEval's stance task (SemEval-2016 Task 6: tweets toward five targets; favor/none/against "
                         "read as supportive/reserved/opposed)", "cardiffnlp/tweet_eval"),
    "ruw": ("the RUW tables of tweets about the Russia-Ukraine war (two examples a tweet: toward Russia and toward Ukraine)", None),
}

TEMPLATE = """---
{{ card_data }}
---

# {{ model_name }}

Labels a statement as **supportive**, **reserved** or **opposed** toward a target. The model reads the pair
(target, statement), so one model serves several targets; without a target it uses its own:
*{{ default_target or "none (pass one)" }}*. Fine-tuned from {{ base_model or "a randomly initialised BERT" }}
with `stance-train`.

## Intended use

Counting positions in statements (speeches, press releases, interviews, posts) per speaker, country or
period: label a file with `stance-label`, then `stance-summarize` it. Check a sample by hand before
relying on the counts, and never use one label as a verdict on one person.

## Labels and guideline

| id | label | the speaker ... |
|---:|---|---|
{%- for label in labels %}
| {{ loop.index0 }} | `{{ label }}` | {{ guideline[label] }} |
{%- endfor %}

The label is what the statement says about the target, not the speaker's general attitude; a reported
position is labeled for what is reported. Full guideline: `data/README.md` in the stance repository.

## Training data

Trained on {{ data_description }}.

| split | statements |
|---|---:|
{%- for split, n in examples.items() %}
| {{ split }} | {{ n }} |
{%- endfor %}

Targets in the test split: {{ targets }}.

## Evaluation results

| split | accuracy | macro-F1 | F_avg | ECE before → after temperature scaling |
|---|---:|---:|---:|---|
{%- for row in results %}
| {{ row.split }} | {{ "%.3f" | format(row.accuracy) }} | {{ "%.3f" | format(row.macro_f1) }} | {{ "%.3f" | format(row.f_avg) }} | {{ "%.3f" | format(row.ece_before) }} → {{ "%.3f" | format(row.ece_after) }} |
{%- endfor %}

F_avg is the mean of F1(supportive) and F1(opposed), the SemEval-2016 / TweetEval score. The epoch was picked
on dev by {{ select_metric }}. `StanceClassifier` and `stance-label` give probabilities scaled by the
temperature T = {{ "%.3f" | format(temperature) }} (fitted on dev, stored as `stance_temperature` in `config.json`);
the labels are the same as without it. Per-class scores and the confusion matrices: `metrics.json`.

## Limitations

{% for item in limitations -%}
- {{ item }}
{% endfor %}
## How to load

```python
from stance import StanceClassifier

clf = StanceClassifier.from_pretrained("{{ path }}")
clf.predict("We are ready to contribute to a reassurance force.")          # a label
clf.predict_proba(["No soldiers of ours will go."], targets="{{ default_target or "a target" }}")  # calibrated, columns {{ labels | join(", ") }}
```

With plain transformers, give the pair as text (the target) and text_pair (the statement):

```python
from transformers import pipeline

classify = pipeline("text-classification", model="{{ path }}")
classify({"text": "{{ default_target or "a target" }}", "text_pair": "We are ready to contribute to a reassurance force."})
```

`pipeline` gives the uncalibrated probabilities{{ extra_parts }}.
"""


def write_model_card(model_dir: str | Path, cfg, metrics: dict, final_dir: str | Path | None = None) -> Path:
    """Write ``<model_dir>/README.md`` from the run's resolved config and its metrics (dev and test).

    ``final_dir`` is where the model will be loaded from (the card's code examples), when
    ``model_dir`` is a staging directory.
    """
    test = metrics["test"]
    base_model = base_model_id(cfg.model)
    description, hub_dataset = KNOWN_DATA.get(cfg.data.name, (_files_description(cfg.data), None))
    model_name = f"stance-{cfg.model.kind}-{cfg.data.name}"
    dataset = {"dataset_type": hub_dataset or cfg.data.name, "dataset_name": cfg.data.name, "dataset_split": "test"}
    task = {"task_type": "text-classification", "task_name": "Stance detection"}
    card_data = ModelCardData(
        language="en",
        library_name="transformers",
        pipeline_tag="text-classification",
        base_model=base_model,
        datasets=[hub_dataset] if hub_dataset else None,
        tags=["stance-detection", "stance"],
        metrics=["accuracy", "f1"],
        model_name=model_name,
        labels=list(LABELS),  # not a hub field: the label order of the output columns
        eval_results=[
            EvalResult(**task, **dataset, metric_type="f1", metric_name="macro-F1", metric_config="macro", metric_value=round(test["macro_f1"], 4)),
            EvalResult(**task, **dataset, metric_type="accuracy", metric_name="accuracy", metric_value=round(test["accuracy"], 4)),
            EvalResult(**task, **dataset, metric_type="f1", metric_name="F_avg (mean F1 of supportive and opposed)",
                       metric_config="f_avg", metric_value=round(test["f_avg"], 4)),
        ],
    )
    calibration = {split: metrics[split]["calibration"] for split in ("dev", "test")}
    card = ModelCard.from_template(
        card_data,
        template_str=TEMPLATE,
        model_name=model_name,
        default_target=cfg.data.default_target,
        base_model=f"`{base_model}`" if base_model else None,
        labels=LABELS,
        guideline=GUIDELINE,
        data_description=description,
        examples=metrics["examples"],
        targets="; ".join(f"{target} ({scores['n']})" for target, scores in test["per_target"].items()),
        results=[{"split": split, **metrics[split], **calibration[split]} for split in ("dev", "test")],
        select_metric=cfg.trainer.select_metric,
        temperature=calibration["dev"]["temperature"],
        limitations=_limitations(cfg, metrics),
        path=str(final_dir or model_dir),
        extra_parts=_extra_parts(cfg),
    )
    path = Path(model_dir) / MODEL_CARD_FILE
    card.save(path)
    return path


def _files_description(data) -> str:
    if data.sources:
        return f"a mixture of {', '.join(data.sources)} (dev and test from {data.eval_source or 'all of them'})"
    files = [f"{split} `{data[split]}`" for split in ("train", "dev", "test") if data[split]]
    return f"{data.name}: " + ", ".join(files)


def _limitations(cfg, metrics: dict) -> list[str]:
    items = [
        "English only: trained and scored on English statements.",
        f"Texts are cut to {cfg.trainer.max_length} tokens of target and statement together; a long statement's end is not read.",
        "Targets unlike those in training are read less reliably; score the model on a labeled sample of yours "
        "(`stance-eval model_path=... data=files data.test=sample.csv`) before trusting it there.",
        f"Temperature scaling was fitted on {metrics['examples']['dev']} dev statements; on other kinds of text the "
        "probabilities may again be over- or under-confident.",
    ]
    if cfg.data.name == "troop_deployment":
        items.insert(1, "One default target (deployment of Western/European troops to Ukraine) and four related ones; the "
                        "corpus was written for this project, so the scores say how well the model follows the guideline "
                        "on statements like the corpus's, not how it does on outside text. Speakers are roles, not people.")
    return items


def _extra_parts(cfg) -> str:
    parts = []
    if cfg.ensemble.seeds:
        parts.append("the seed members (`members/`)")
    if cfg.linear:
        parts.append("the linear blend (`linear/`)")
    if cfg.model.pooling == "mean":
        parts.append("mean pooling (pipeline needs `import stance.models.mean_pooling` first)")
    return "; " + " and ".join(parts) + " are applied by `StanceClassifier` only" if parts else ""
