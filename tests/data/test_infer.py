from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from loopline.data import Contract, infer_contract, validate


def test_inferred_contract_reads_well_and_catches_drift() -> None:
    rng = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tenure": rng.integers(0, 73, n),
            "charges": rng.uniform(18.25, 118.75, n).round(2),
            "plan": rng.choice(["Month-to-month", "One year", "Two year"], n),
            "note": [f"free text {i}" for i in range(n)],
            "total": np.where(rng.random(n) < 0.02, np.nan, rng.uniform(0, 9000, n)),
        }
    )
    contract = infer_contract(df, name="churn")
    cols = contract.columns
    assert cols["customer_id"].unique and cols["customer_id"].dtype == "int"
    assert cols["tenure"].min == 0 and cols["tenure"].max is not None and cols["tenure"].max >= 72
    assert cols["plan"].allowed == ["Month-to-month", "One year", "Two year"]
    assert cols["note"].allowed is None and cols["note"].max_length is not None
    assert cols["total"].nullable and cols["total"].max_null_fraction is not None
    assert not cols["charges"].nullable
    assert validate(df, contract).verdict == "passed"
    text = contract.to_yaml()
    assert Contract.from_yaml_text(text).columns == cols
    drifted = df.assign(plan=df["plan"].replace("Two year", "2 years"))
    assert validate(drifted, contract).verdict == "failed"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=1, max_size=50),
    st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=50),
)
def test_data_passes_the_contract_inferred_from_it(floats: list[float], text: list[str]) -> None:
    n = min(len(floats), len(text))
    df = pd.DataFrame({"x": floats[:n], "t": text[:n], "i": range(n)})
    assert validate(df, infer_contract(df)).verdict == "passed"
