"""Fine-tune a small transformer to tag support tickets by urgency."""

from __future__ import annotations

import pandas as pd
from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments


def main() -> None:
    tickets = pd.read_parquet("s3://acme-ml-data/support/tickets/latest/")
    tokenizer = AutoTokenizer.from_pretrained("distilbert-base-uncased")
    model = AutoModelForSequenceClassification.from_pretrained("distilbert-base-uncased", num_labels=3)
    encoded = tokenizer(list(tickets["text"]), truncation=True, padding=True)
    Trainer(model=model, args=TrainingArguments(output_dir="out", num_train_epochs=3),
            train_dataset=encoded).train()


if __name__ == "__main__":
    main()
