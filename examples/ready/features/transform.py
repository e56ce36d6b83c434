"""Feature engineering shared by training and serving, so both see the same features."""

from __future__ import annotations

import pandas as pd


def build_features(events: pd.DataFrame) -> pd.DataFrame:
    per_account = events.groupby("account_id")
    return pd.DataFrame({
        "sessions_30d": per_account["session_id"].nunique(),
        "tickets_30d": per_account["ticket_id"].nunique(),
        "spend_30d": per_account["amount"].sum(),
        "days_since_last_login": per_account["days_since_login"].min(),
    }).reset_index()
