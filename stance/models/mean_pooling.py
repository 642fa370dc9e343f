"""A BERT sequence classifier on the mean of its token states (``model.pooling=mean``).

all-MiniLM-L6-v2 was trained to carry sentence meaning in the mean of its token states;
its [CLS] state and pooler never were. Classifying the mean lets a fine-tune start from
what the checkpoint knows. Saved like any transformers model (config.json with
model_type ``stance_bert_mean``, safetensors); the Auto classes know it once
``stance.mean_pooling`` is imported, as ``StanceClassifier`` does.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForSequenceClassification, BertConfig, BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class MeanPoolingBertConfig(BertConfig):
    model_type = "stance_bert_mean"


class MeanPoolingBertForSequenceClassification(BertPreTrainedModel):
    config_class = MeanPoolingBertConfig

    def __init__(self, config: MeanPoolingBertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    # no **kwargs: Trainer would then hand the model its loss normalisation (num_items_in_batch)
    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None) -> SequenceClassifierOutput:
        states = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, return_dict=True).last_hidden_state
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        mask = mask.unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        logits = self.classifier(self.dropout(pooled))
        loss = nn.functional.cross_entropy(logits.float(), labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


AutoConfig.register(MeanPoolingBertConfig.model_type, MeanPoolingBertConfig, exist_ok=True)
AutoModelForSequenceClassification.register(MeanPoolingBertConfig, MeanPoolingBertForSequenceClassification, exist_ok=True)
