from __future__ import annotations

import pytest

import loopline as ll
from loopline.llm import (
    BlockedTerms,
    GuardrailPipeline,
    GuardrailViolation,
    OpenAICompatibleProvider,
    PiiRedaction,
    Pricing,
    PromptClient,
    PromptRouter,
    TraceLog,
    TraceSlo,
    check_traces,
    register_prompt,
    summarize,
)
from loopline.serving import Slo, deploy
from loopline.store import open_metadata_store
from tests.llm.conftest import JSON_PROMPT, PROSE_PROMPT, LlmServer


def _client(server: LlmServer, **kw: object) -> PromptClient:
    provider = OpenAICompatibleProvider(
        server.url, pricing={"toy-1": Pricing(input_per_mtok=1e4, output_per_mtok=1e4)}
    )
    return PromptClient("support", provider, **kw)  # type: ignore[arg-type]


@pytest.fixture
def production() -> None:
    register_prompt("support", JSON_PROMPT)
    ll.promote("support", 1, alias="production")


def test_each_request_is_traced_durably_with_feedback(
    llm_server: LlmServer, production: None
) -> None:
    client = _client(llm_server, guardrails=GuardrailPipeline([PiiRedaction()]))
    reply = client.complete(
        {"customer": "Ada", "question": "refund to ada@example.com?"},
        retrieval=[{"doc_id": "policy-7", "score": 0.81, "rank": 1}],
    )
    client.feedback(reply.request_id, thumbs="up", tags=["helpful"])
    (trace,) = TraceLog().read("support")  # read back from disk by a new reader
    assert trace["request_id"] == reply.request_id and trace["version"] == 1
    assert trace["model"] == "toy-1" and trace["status"] == "ok" and trace["arm"] == "champion"
    assert trace["tokens_in"] > 0 and trace["tokens_out"] > 0
    assert trace["cost_usd"] == pytest.approx((trace["tokens_in"] + trace["tokens_out"]) / 100)
    assert trace["guardrail_events"][0]["detail"] == {"types": {"email": 1}}
    assert trace["retrieval"] == [{"doc_id": "policy-7", "score": 0.81, "rank": 1}]
    assert trace["feedback"]["thumbs"] == "up" and trace["feedback"]["tags"] == ["helpful"]


def test_blocked_and_failed_requests_are_traced_too(
    llm_server: LlmServer, production: None
) -> None:
    client = _client(llm_server, guardrails=GuardrailPipeline([BlockedTerms(["password"])]))
    with pytest.raises(GuardrailViolation):
        client.complete({"customer": "A", "question": "my password?"})
    llm_server.script = [(400, {"error": "bad"}, {})]
    from loopline.llm import ProviderError

    with pytest.raises(ProviderError):
        client.complete({"customer": "A", "question": "hi"})
    statuses = [t["status"] for t in TraceLog().read("support")]
    assert statuses == ["blocked", "error"]
    m = summarize(TraceLog().read("support"))
    assert m["blocked_rate"] == 0.5 and m["error_rate"] == 0.5


def test_summary_metrics_and_alerts(llm_server: LlmServer, production: None) -> None:
    client = _client(llm_server)
    ids = [client.complete({"customer": "A", "question": f"q{i}"}).request_id for i in range(10)]
    for i, rid in enumerate(ids[:4]):
        client.feedback(rid, thumbs="up" if i == 0 else "down")
    m = summarize(TraceLog().read("support"))
    assert m["requests"] == 10 and m["feedback_rate"] == 0.4 and m["thumbs_up_rate"] == 0.25
    assert m["latency_p95_ms"] >= m["latency_p50_ms"] > 0
    assert m["cost_per_request_usd"] == pytest.approx(m["cost_usd"] / 10)
    slo = TraceSlo(max_cost_per_request_usd=1e-6, min_thumbs_up_rate=0.5, min_requests=5)
    out = check_traces("support", slo)
    assert {f.rule for f in out.findings if f.severity} == {"llm_cost", "llm_quality"}
    open_alerts = {a.rule for a in open_metadata_store().list_alerts("support")}
    assert open_alerts == {"llm_cost", "llm_quality"}
    again = check_traces("support", slo)  # deduplicated: the same alerts, counted
    assert {a.rule for a in open_metadata_store().list_alerts("support")} == open_alerts
    assert len(again.alerts) == 2
    check_traces(
        "support", TraceSlo(max_cost_per_request_usd=1.0, min_thumbs_up_rate=0.1, min_requests=5)
    )
    assert open_metadata_store().list_alerts("support") == []  # resolved


def test_too_little_traffic_is_not_judged(llm_server: LlmServer, production: None) -> None:
    _client(llm_server).complete({"customer": "A", "question": "q"})
    assert check_traces("support", TraceSlo(max_p95_ms=0.0)).findings == ()


def test_canary_routes_through_the_model_traffic_router(
    llm_server: LlmServer, production: None
) -> None:
    register_prompt("support", PROSE_PROMPT)
    router = PromptRouter("support")
    assert router.route("k")[1].version == 1  # no deployment: all to the champion
    deploy("support", 2, strategy="canary", steps=[30, 100], step_duration_s=0.0,
           slo=Slo(max_error_rate=0.2, min_requests=5))  # fmt: skip
    router.poll()
    arms = [router.route(f"user-{i}") for i in range(400)]
    share = sum(a == "challenger" for a, _ in arms) / len(arms)
    assert 0.2 < share < 0.4
    assert {p.version for a, p in arms if a == "challenger"} == {2}
    assert router.route("user-7") == router.route("user-7")  # sticky per key
    client = _client(llm_server, router=router)
    for i in range(40):
        client.complete({"customer": "A", "question": f"q{i}"}, key=f"user-{i}")
    versions = {(t["arm"], t["version"]) for t in TraceLog().read("support")}
    assert versions == {("champion", 1), ("challenger", 2)}
    # the challenger's requests were healthy: the canary steps up, then completes
    router.poll()
    router.poll()
    for i in range(40):
        client.complete({"customer": "A", "question": f"r{i}"}, key=f"user-{i}")
    router.poll()
    assert open_metadata_store().get_version_by_alias("support", "production").version == 2


def test_failing_challenger_is_rolled_back_by_the_canary(
    llm_server: LlmServer, production: None
) -> None:
    register_prompt("support", PROSE_PROMPT)
    router = PromptRouter("support")
    deploy("support", 2, strategy="canary", steps=[50, 100], step_duration_s=60.0,
           slo=Slo(max_error_rate=0.1, min_requests=5))  # fmt: skip
    router.poll()
    client = _client(llm_server, router=router)
    llm_server.answer = lambda body: "x"
    llm_server.script = [(400, {"error": "bad"}, {})] * 400
    from loopline.llm import ProviderError

    for i in range(30):
        with pytest.raises(ProviderError):
            client.complete({"customer": "A", "question": "q"}, key=f"user-{i}")
    router.poll()
    store = open_metadata_store()
    (d,) = store.list_deployments("support")
    assert d.status == "rolled_back"
    assert store.get_version_by_alias("support", "production").version == 1
    assert router.route("anyone")[0] == "champion"
