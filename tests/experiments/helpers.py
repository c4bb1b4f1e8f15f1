"""Panels built by hand for the experiment tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def exact_panel(tmp_path: Path, effect: float = 10.0) -> tuple[Path, pd.DataFrame]:
    """Treated T is the mean of controls A and B (C is a decoy) and gains ``effect`` per test day."""
    days = pd.date_range("2024-01-01", periods=60, freq="D")
    t = np.arange(60)
    series = {
        "A": 100 + 10 * np.sin(t / 3),
        "B": 60 + 8 * np.cos(t / 5),
        "C": 80 + 0.5 * t,
    }
    series["T"] = (series["A"] + series["B"]) / 2 + np.where(days >= "2024-02-20", effect, 0.0)
    frame = pd.DataFrame(
        [
            {"region": loc, "day": d.strftime("%Y-%m-%d"), "orders": float(v[i])}
            for loc, v in series.items()
            for i, d in enumerate(days)
        ]
    )
    path = tmp_path / "geo.csv"
    frame.to_csv(path, index=False)
    return path, frame
