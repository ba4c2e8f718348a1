"""The ASGI application of ``windowclf serve``: routes, limits and JSON errors (Starlette).

Routes (every answer JSON, every error ``{"error": "..."}`` with its status):

- ``POST /entities``: ``{"text": "..."}`` answers ``{"entities": [record, ...]}``, the records
  :meth:`~windowclf.inference.prediction.Tagging.tag_text` gives (``Entity.to_dict()``,
  ``docs/entities.md``); ``{"texts": ["...", ...]}`` answers ``{"results": [{"entities": [...]},
  ...]}``, one per text; ``"tokenizer"`` (``conll``, ``whitespace``, ``social``) splits them
  (default: the model's).
- ``POST /tag``: ``{"tokens": ["Anna", ...]}`` (one sentence) answers ``{"tags": [...],
  "entities": [...]}`` as ``predict(..., confidences=True)`` gives them (no character offsets:
  the input was tokens); ``{"sentences": [[...], ...]}`` answers ``{"results": [{"tags",
  "entities"}, ...]}``, the sentences of a request one document.
- ``GET /health``: ``{"status": "ok", ...}``; ``GET /model``: what ``windowclf info --json`` prints.

Limits: a body over ``max_body`` bytes is 413 (from its Content-Length, or as it arrives); a body
not read whole within ``body_timeout`` seconds (a slow client) is 408; a body that is not JSON is
400 and JSON of the wrong shape 422; more than ``max_texts`` texts or sentences in one request is
413; a full queue is 503. Requests are scored together (:class:`~windowclf.serve.batcher.Batcher`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from windowclf.errors import ConfigError
from windowclf.serve.batcher import Batcher, Busy, Job
from windowclf.text.tokenize import TOKENIZERS

__all__ = ["Limits", "RequestError", "make_app"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What one request may ask and how long it may take to send it, and how requests are batched.

    Attributes
    ----------
    max_body : int
        Bytes of a request's body at most (413 beyond).
    max_texts : int
        Texts (``/entities``) or sentences (``/tag``) in one request at most (413 beyond).
    body_timeout : float
        Seconds to receive a request's body (408 after).
    max_batch : int
        Texts plus sentences scored together at most.
    max_wait : float
        Seconds a batch's first request waits for others.
    max_queued : int
        Texts plus sentences waiting at most (503 beyond).
    """

    max_body: int = 1 << 20
    max_texts: int = 1000
    body_timeout: float = 10.0
    max_batch: int = 64
    max_wait: float = 0.002
    max_queued: int = 10_000

    def __post_init__(self):
        for name in ("max_body", "max_texts", "max_batch", "max_queued"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("body_timeout", "max_wait"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ConfigError(f"{name} must be a number of seconds >= 0, got {value!r}")


class RequestError(Exception):
    """A request the service refuses: its HTTP status and the one line the error body holds."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _json(payload, status: int = 200) -> Response:
    # allow_nan=False: a non-finite number would be JSON no client reads; confidences are finite
    body = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"error": message}, status)


async def _body(request: Request, limits: Limits) -> bytes:
    """The request's body, within the size and time limits (RequestError beyond them)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, "Content-Length is not a number")
        if int(declared) > limits.max_body:
            raise RequestError(413, f"the body is {int(declared):,} bytes; at most {limits.max_body:,} are read")

    async def read() -> bytes:
        parts, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body:
                raise RequestError(413, f"the body is over {limits.max_body:,} bytes; at most that many are read")
            parts.append(chunk)
        return b"".join(parts)

    try:
        return await asyncio.wait_for(read(), limits.body_timeout)
    except asyncio.TimeoutError:
        raise RequestError(408, f"the body did not arrive within {limits.body_timeout:g} seconds") from None


def _payload(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise RequestError(400, f"the body is not JSON ({type(err).__name__}: {err})"[:300]) from None
    if not isinstance(payload, dict):
        raise RequestError(422, f"expected a JSON object, got {_kind(payload)}")
    return payload


def _kind(value) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _one_or_many(payload: dict, one: str, many: str, check, limits: Limits) -> tuple:
    """(items, whether the request gave one) from ``{one: item}`` or ``{many: [item, ...]}``."""
    keys = [k for k in (one, many) if k in payload]
    if len(keys) != 1:
        raise RequestError(422, f'expected "{one}" or "{many}" (one of them)')
    if keys[0] == one:
        return [check(payload[one], one)], True
    items = payload[many]
    if not isinstance(items, list):
        raise RequestError(422, f'"{many}" must be an array, got {_kind(items)}')
    if len(items) > limits.max_texts:
        raise RequestError(413, f'{len(items):,} items in "{many}"; at most {limits.max_texts:,} in one request')
    return [check(item, f"{many}[{i}]") for i, item in enumerate(items)], False


def _text(value, where: str) -> str:
    if not isinstance(value, str):
        raise RequestError(422, f'"{where}" must be a string, got {_kind(value)}')
    return value


def _tokens(value, where: str) -> list:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise RequestError(422, f'"{where}" must be an array of strings (tokens)')
    return value


def _tokenizer(payload: dict):
    tokenizer = payload.get("tokenizer")
    if tokenizer is not None and tokenizer not in TOKENIZERS:
        raise RequestError(422, f'"tokenizer" must be one of {", ".join(TOKENIZERS)}, got {tokenizer!r}'[:300])
    return tokenizer


def make_app(model, *, limits: Limits | None = None, info: dict | None = None) -> Starlette:
    """The service's ASGI application for ``model`` (a WindowTagger or an Ensemble).

    Parameters
    ----------
    model : WindowTagger or Ensemble
        A trained model.
    limits : Limits, optional
        Request limits and batching (default: :class:`Limits`'s defaults).
    info : dict, optional
        What ``GET /model`` answers (the command passes ``windowclf info --json``'s object).

    Returns
    -------
    starlette.applications.Starlette
        Its ``state.batcher`` is the :class:`~windowclf.serve.batcher.Batcher`, started and
        stopped with the app's lifespan (uvicorn's, or Starlette's TestClient's).
    """
    model.check_fitted()
    limits = limits or Limits()
    described = dict(info or {})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher = Batcher(model, max_items=limits.max_batch, max_wait=limits.max_wait, max_queued=limits.max_queued)
        app.state.batcher = batcher
        worker = asyncio.create_task(batcher.run())
        try:
            yield
        finally:  # uvicorn has answered every request in flight by now
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def answer(request: Request, handle) -> Response:
        try:
            payload = _payload(await _body(request, limits))
            return _json(await handle(request.app.state.batcher, payload))
        except RequestError as err:
            return _error(err.status, err.message)
        except Busy as err:
            return _error(503, f"busy: {err}; try again")
        except (ValueError, TypeError) as err:  # the library refused the request's texts (InputError, ...)
            return _error(422, str(err)[:500])
        except ClientDisconnect:
            return _error(400, "the client closed the connection before its body arrived")

    async def entities(request: Request) -> Response:
        async def handle(batcher, payload):
            texts, one = _one_or_many(payload, "text", "texts", _text, limits)
            found = await batcher.submit(Job("texts", texts, _tokenizer(payload)))
            results = [{"entities": [e.to_dict() for e in ents]} for ents in found]
            return results[0] if one else {"results": results}

        return await answer(request, handle)

    async def tag(request: Request) -> Response:
        async def handle(batcher, payload):
            sentences, one = _one_or_many(payload, "tokens", "sentences", _tokens, limits)
            found = await batcher.submit(Job("sentences", sentences))
            results = [{"tags": tags, "entities": [e.to_dict() for e in ents]} for tags, ents in found]
            return results[0] if one else {"results": results}

        return await answer(request, handle)

    async def health(request: Request) -> Response:
        batcher = request.app.state.batcher
        return _json({"status": "ok", "queued": batcher.queued, "batches": batcher.batches})

    async def model_info(request: Request) -> Response:
        return _json(described)

    async def http_error(request: Request, err: Exception) -> Response:
        assert isinstance(err, HTTPException)
        return _error(err.status_code, str(err.detail))

    async def server_error(request: Request, err: Exception) -> Response:
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, f"internal error: {type(err).__name__}")

    routes = [
        Route("/entities", entities, methods=["POST"]),
        Route("/tag", tag, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/model", model_info, methods=["GET"]),
    ]
    return Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error, Exception: server_error}
    )
