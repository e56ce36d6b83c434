"""Train the churn predictor: gradient-boosted trees on 30 days of account events."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from features.transform import build_features


def main(config_path: Path) -> None:
    config = yaml.safe_load(config_path.read_text())
    seed = config["training"]["seed"]
    random.seed(seed)
    np.random.seed(seed)

    events = pd.read_parquet(config["data"]["events"])
    labels = pd.read_csv(config_path.parent / config["data"]["labels"])
    frame = build_features(events).merge(labels, on="account_id")
    x_train, x_test, y_train, y_test = train_test_split(
        frame.drop(columns=["account_id", "churned"]), frame["churned"],
        test_size=config["training"]["test_fraction"], random_state=seed, stratify=frame["churned"],
    )
    params = config["model"]
    model = HistGradientBoostingClassifier(
        max_iter=params["n_estimators"], max_depth=params["max_depth"],
        learning_rate=params["learning_rate"], random_state=seed,
    )
    model.fit(x_train, y_train)
    print(f"test AUC: {roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]):.4f}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "train/config.yaml"))
