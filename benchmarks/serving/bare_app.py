"""The floor: a bare Starlette app that parses MLflow's ``dataframe_split`` and calls
``predict_proba`` on a one-row DataFrame. No validation, no capture, no metrics.

Run by ``bare_side.py`` as ``uvicorn bare_app:app --workers 1``; the model's joblib path comes in
``BENCH_MODEL_PATH``.
"""

from __future__ import annotations

import os

import joblib
import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

MODEL = joblib.load(os.environ["BENCH_MODEL_PATH"])


async def invocations(request: Request) -> JSONResponse:
    # predict_proba on one row takes about a millisecond: called inline on the event loop, as
    # the cheapest possible server would (a thread pool hop would only add overhead).
    split = (await request.json())["dataframe_split"]
    frame = pd.DataFrame(split["data"], columns=split["columns"])
    return JSONResponse({"predictions": MODEL.predict_proba(frame).tolist()})


async def ping(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/invocations", invocations, methods=["POST"]), Route("/ping", ping)])
