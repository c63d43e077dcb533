"""The example agent: a small FastAPI app that writes a JSON request log and serves Prometheus metrics.

Run: uvicorn app:app --host 127.0.0.1 --port ${PORT:-8000}
Env: LOG_FILE (default /var/log/agent/requests.log), LOG_MAX_BYTES, LOG_BACKUP_COUNT, AGENT_INSTANCE.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder
from pydantic import BaseModel

from agent_log import open_request_log

# Probes and scrapes come every few seconds; logging them would bury the requests that matter.
UNLOGGED_PATHS = frozenset({"/healthz", "/metrics"})

# An own registry rather than prometheus_client's global one, so a re-import never registers twice.
registry = CollectorRegistry()
ProcessCollector(registry=registry)
REQUESTS = Counter(
    "agent_requests",
    "HTTP requests handled by the agent, by route, method and status code.",
    ["path", "method", "status"],
    registry=registry,
)
LATENCY = Histogram(
    "agent_request_duration_seconds",
    "Time the agent took to answer an HTTP request, by route and method.",
    ["path", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=registry,
)

request_log = open_request_log()
app = FastAPI(title="example agent")


class InferenceRequest(BaseModel):
    input: str
    # Lets a demo or a test raise an unhandled error on purpose.
    fail: Optional[bool] = False


POSITIVE = frozenset({"good", "great", "happy", "fast", "love", "excellent", "nice"})
NEGATIVE = frozenset({"bad", "slow", "sad", "hate", "broken", "awful", "error"})


class RequestObserver:
    """Counts, times and logs every request; turns an unhandled error into a logged 500.

    A plain ASGI middleware rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware wraps
    an endpoint's exception in its own, which would bury the real traceback under a second one.
    """

    # Older Starlette passes the wrapped app by keyword `app`, newer ones by position: accept both.
    def __init__(self, app) -> None:  # noqa: A002 - the name Starlette passes
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1") or uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        error: Optional[BaseException] = None
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # noqa: BLE001 - nothing may escape unlogged
            error = exc
            if not response_started:
                body = JSONResponse({"error": "internal error", "request_id": request_id}, status_code=500)
                await body(scope, receive, send_with_id)
        elapsed = time.perf_counter() - started
        # The route template, not the raw path: an unknown path must not create a new series.
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"]
        REQUESTS.labels(route, method, str(status)).inc()
        LATENCY.labels(route, method).observe(elapsed)
        if error is None and scope["path"] in UNLOGGED_PATHS:
            return
        fields = {
            "request_id": request_id,
            "method": method,
            "path": scope["path"],
            "status": status,
            "latency_ms": round(elapsed * 1000, 3),
        }
        if error is None:
            request_log.info("", extra={"fields": fields})
        else:
            fields["error"] = f"{type(error).__name__}: {error}"
            request_log.error("", exc_info=error, extra={"fields": fields})


app.add_middleware(RequestObserver)


# Set by a runner (the demo) to a per-run token: echoed here, it proves the process answering on the
# port is the agent that runner started, not another one that got the port first.
INSTANCE = os.environ.get("AGENT_INSTANCE", "")


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok", "instance": INSTANCE} if INSTANCE else {"status": "ok"}


@app.post("/inference")
async def inference(body: InferenceRequest) -> dict:
    if body.fail:
        raise RuntimeError(f"inference failed on purpose for input {body.input!r}")
    words = body.input.lower().split()
    score = sum(w in POSITIVE for w in words) - sum(w in NEGATIVE for w in words)
    label = "positive" if score > 0 else "negative" if score < 0 else "neutral"
    return {"prediction": label, "score": score, "tokens": len(words)}


@app.get("/error")
async def error() -> dict:
    raise ValueError("the /error endpoint always fails")


@app.get("/metrics")
async def metrics(request: Request) -> Response:
    # Prometheus asks for OpenMetrics when it can; the metrics-sidecar passes the Accept header on.
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(content=encoder(registry), media_type=content_type)
