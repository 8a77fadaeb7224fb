"""The FastAPI app: routes, error mapping, streaming, traces.

Decisions:
- The body is read and parsed here, not by FastAPI, so each failure gets its own status:
  malformed JSON 400, a missing or invalid field 422 naming it, an unknown model 404 listing
  the served names, a body over the limit 413. No input reaches a 500.
- Model errors map by kind: a `BackendError` (endpoint down, refused, garbage) is 502 and a
  timed-out one 504, both naming the pool model; a model whose weights or key are missing
  (`ModelNotAvailable`) 503; any other `SubrouteError` (a prompt longer than the model's
  window, say) 400 with its one-line message. Only a bug in subroute is a 500, and the
  server keeps serving.
- `stream: true` streams the *final* answer: the router cannot emit tokens before its last
  step, so the whole answer is computed first and then sent as OpenAI chunks. A side effect
  worth having: errors still arrive as proper 4xx/5xx statuses, never mid-stream.
- Traces of the last `trace_limit` answers are kept in memory (oldest dropped first) for
  `GET /v1/traces/{id}`; they hold questions and answers, so they are behind auth too.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import OrderedDict
from typing import Any, Iterator

from subroute.errors import BackendError, ModelNotAvailable, SubrouteError, missing_extra

try:
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, Response, StreamingResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException
except ImportError:  # pragma: no cover - exercised only without the extra
    raise missing_extra("fastapi", "serve") from None
try:
    import prometheus_client  # noqa: F401
except ImportError:  # pragma: no cover
    raise missing_extra("prometheus-client", "serve") from None

from pydantic import ValidationError

from subroute.pool import Pool
from subroute.reasoner import DEFAULT_THRESHOLD
from subroute.serve.auth import OPEN_PATHS, authorized, token_from_env
from subroute.serve.chat import EmptyQuestion
from subroute.serve.limits import Admission, BodyTooLarge, Overloaded, read_body
from subroute.serve.metrics import CONTENT_TYPE, Metrics
from subroute.serve.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatRequest,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    SubrouteInfo,
    UsageOut,
    error_body,
)
from subroute.serve.targets import Answer, Targets, UnknownModel
from subroute.trace import Trace

log = logging.getLogger("subroute.serve")
_UNSET: Any = object()


class ApiError(Exception):
    """An error response in OpenAI's shape."""

    def __init__(self, status: int, message: str, type_: str, code: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.type, self.code, **self.extra), self.status,
                            headers=self.headers)


def to_api_error(e: Exception) -> ApiError:
    if isinstance(e, ApiError):
        return e
    if isinstance(e, BackendError):
        if e.timeout:
            return ApiError(504, str(e), "api_error", "backend_timeout", model=e.model)
        return ApiError(502, str(e), "api_error", "backend_error", model=e.model)
    if isinstance(e, ModelNotAvailable):
        return ApiError(503, str(e), "api_error", "model_unavailable")
    if isinstance(e, EmptyQuestion):
        return ApiError(400, str(e), "invalid_request_error", "empty_question")
    if isinstance(e, SubrouteError):
        return ApiError(400, str(e), "invalid_request_error", "invalid_request")
    if isinstance(e, Overloaded):
        return ApiError(429, str(e), "rate_limit_error", "queue_full", headers={"Retry-After": str(e.retry_after)})
    if isinstance(e, BodyTooLarge):
        return ApiError(413, str(e), "invalid_request_error", "request_too_large")
    if isinstance(e, UnknownModel):
        return ApiError(404, str(e), "invalid_request_error", "model_not_found")
    log.exception("internal error")
    return ApiError(500, "internal server error in subroute (a bug; see the server log)", "server_error", "internal_error")


class TraceStore:
    """The last `limit` traces, by id."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._traces: OrderedDict[str, Trace] = OrderedDict()

    def add(self, t: Trace) -> None:
        self._traces[t.id] = t
        while len(self._traces) > self.limit:
            self._traces.popitem(last=False)

    def get(self, trace_id: str) -> Trace | None:
        return self._traces.get(trace_id)

    def __len__(self) -> int:
        return len(self._traces)


def parse_request(body: bytes) -> ChatRequest:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise ApiError(400, f"request body is not valid JSON ({e})", "invalid_request_error", "invalid_json") from None
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object", "invalid_request_error", "invalid_json")
    try:
        return ChatRequest.model_validate(data)
    except ValidationError as e:
        errs = e.errors()
        err = next((x for x in errs if x["type"] == "value_error"), errs[0])  # ours say what to do
        # drop pydantic's union-branch tags ("str", "list[ContentPart]") from the location
        loc = ".".join(str(x) for x in err["loc"] if not (isinstance(x, str) and (x == "str" or "[" in x))) or "body"
        msg = err["msg"].removeprefix("Value error, ")
        more = f" (and {len(errs) - 1} more)" if len(errs) > 1 else ""
        code = "missing_field" if err["type"] == "missing" else "invalid_value"
        raise ApiError(422, f"{loc}: {msg}{more}", "invalid_request_error", code, param=loc) from None


def _info(t: Trace) -> SubrouteInfo:
    return SubrouteInfo(cost=t.cost, trace_id=t.id, steps=len(t.steps), router=t.router)


def completion(model: str, a: Answer) -> ChatCompletion:
    t = a.trace
    p = sum(c.input_tokens for c in t.calls)
    o = sum(c.output_tokens for c in t.calls)
    return ChatCompletion(
        id=f"chatcmpl-{t.id}", created=int(time.time()), model=model,
        choices=[Choice(message=ResponseMessage(content=t.answer), finish_reason=a.finish_reason)],
        usage=UsageOut(prompt_tokens=p, completion_tokens=o, total_tokens=p + o), subroute=_info(t),
    )


def chunks(c: ChatCompletion, include_usage: bool) -> Iterator[str]:
    """The finished answer as OpenAI stream chunks, a few words each, then [DONE]."""
    base = dict(id=c.id, created=c.created, model=c.model)
    yield ChatCompletionChunk(**base, choices=[ChunkChoice(delta=Delta(role="assistant", content=""))]).sse()
    for piece in re.findall(r"\s*\S+", c.choices[0].message.content):
        yield ChatCompletionChunk(**base, choices=[ChunkChoice(delta=Delta(content=piece))]).sse()
    yield ChatCompletionChunk(**base, choices=[ChunkChoice(delta=Delta(), finish_reason=c.choices[0].finish_reason)],
                              subroute=c.subroute).sse()
    if include_usage:
        yield ChatCompletionChunk(**base, choices=[], usage=c.usage).sse()
    yield "data: [DONE]\n\n"


def create_app(pool: Pool, *, token: str | None = _UNSET, max_concurrency: int = 4, max_queue: int = 64,
               max_body_bytes: int = 1_000_000, trace_limit: int = 1000,
               threshold: float = DEFAULT_THRESHOLD) -> FastAPI:
    """The server for `pool`.

    token: bearer token required on every route but /healthz; default: $SUBROUTE_SERVER_TOKEN
    (unset or empty: no auth). max_concurrency: requests running model calls at once;
    max_queue: more that may wait, beyond which 429. max_body_bytes: larger bodies get 413.
    trace_limit: traces kept for /v1/traces/{id}. threshold: the `subroute` router's.
    """
    token = token_from_env() if token is _UNSET else (token or None)
    targets = Targets(pool, threshold)
    admission = Admission(max_concurrency, max_queue)
    metrics = Metrics()
    traces = TraceStore(trace_limit)
    started = int(time.time())

    app = FastAPI(title="subroute", version="0.1.0", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.pool, app.state.admission, app.state.metrics, app.state.traces = pool, admission, metrics, traces

    @app.middleware("http")
    async def _auth(request: Request, call_next):
        if token and request.url.path not in OPEN_PATHS and not authorized(request.headers.get("authorization"), token):
            metrics.errors.labels("-", "invalid_api_key").inc()
            return JSONResponse(error_body("missing or invalid bearer token", "authentication_error", "invalid_api_key"),
                                401, headers={"WWW-Authenticate": "Bearer"})
        return await call_next(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, "http_error")
        return JSONResponse(error_body(str(e.detail), "invalid_request_error", code), e.status_code,
                            headers=getattr(e, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, e: Exception) -> JSONResponse:
        return to_api_error(e).response()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def model_card(name: str) -> dict[str, Any]:
        t = targets.resolve(name)
        card: dict[str, Any] = {"id": name, "object": "model", "created": started, "owned_by": "subroute"}
        if t.kind == "model":
            m = pool[name]
            card["subroute"] = {"kind": "model", "tier": m.tier, "backend": m.spec.backend,
                                "price_in": m.price_in, "price_out": m.price_out}
        else:
            card["subroute"] = {"kind": "router", "threshold": t.threshold}  # type: ignore[attr-defined]
        return card

    @app.get("/v1/models")
    async def list_models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card(n) for n in targets.names]}

    @app.get("/v1/models/{name:path}")
    async def get_model(name: str) -> Response:
        try:
            return JSONResponse(model_card(name))
        except UnknownModel as e:
            return to_api_error(e).response()

    @app.get("/v1/traces/{trace_id}")
    async def get_trace(trace_id: str) -> Response:
        t = traces.get(trace_id)
        if t is None:
            return ApiError(404, f"no trace '{trace_id[:40]}'; the server keeps the last {traces.limit}",
                            "invalid_request_error", "trace_not_found").response()
        return JSONResponse(t.to_dict())

    @app.get("/metrics")
    async def get_metrics() -> Response:
        metrics.in_progress.set(admission.pending)
        metrics.queued.set(admission.waiting)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        t0 = time.perf_counter()
        label = "-"
        try:
            req = parse_request(await read_body(request, max_body_bytes))
            target = targets.resolve(req.model)
            label = target.label
            answer = await admission.run(target.run, req)
            traces.add(answer.trace)
            metrics.answered(label, answer.trace)
            c = completion(target.name, answer)
            if req.stream:
                include = bool(req.stream_options and req.stream_options.include_usage)
                resp: Response = StreamingResponse(chunks(c, include), media_type="text/event-stream",
                                                   headers={"Cache-Control": "no-cache"})
            else:
                resp = JSONResponse(c.model_dump())
            code = None
        except Exception as e:  # every failure becomes an OpenAI-shaped error, never a dropped server
            err = to_api_error(e)
            if err.status >= 500:
                log.warning("%s %s: %s", label, err.code, err.message)
            resp, code = err.response(), err.code
        metrics.finished(label, resp.status_code, time.perf_counter() - t0, code)
        return resp

    return app
