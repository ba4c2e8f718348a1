"""``windowclf serve``: the model as an HTTP service (windowclf.serve, extra ``serve``)."""

from __future__ import annotations

import click

from windowclf._util.printable import file_name, printable
from windowclf.cli.ensemble import ensemble_summary
from windowclf.cli.options import Command, Number, model_option
from windowclf.cli.reports import model_summary

__all__ = ["SERVE_HINT", "serve"]

SERVE_HINT = "starlette and uvicorn are needed to serve: pip install 'windowclf[serve]'"


@click.command(cls=Command)
@model_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every interface of this machine; put a proxy with TLS in front). "
    "Example: --host 127.0.0.1",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="TCP port (0: a free one, printed on stderr). Example: --port 8000",
)
@click.option(
    "--max-batch",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Texts and sentences of concurrent requests scored together at most. Example: --max-batch 128",
)
@click.option(
    "--max-wait-ms",
    type=Number(0, 1000),
    default=2.0,
    show_default=True,
    help="Milliseconds a request waits for others to be scored with. Example: --max-wait-ms 5",
)
@click.option(
    "--max-body-kb",
    type=click.IntRange(min=1),
    default=1024,
    show_default=True,
    help="Largest request body in kilobytes (413 beyond). Example: --max-body-kb 4096",
)
@click.option(
    "--max-texts",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Texts or sentences in one request at most (413 beyond). Example: --max-texts 100",
)
@click.option(
    "--body-timeout",
    type=Number(0.001),
    default=10.0,
    show_default=True,
    help="Seconds a client has to send its request's body (408 after). Example: --body-timeout 5",
)
@click.option("--access-log", is_flag=True, help="Log one line per request on stderr. Example: --access-log")
def serve(model_path, host, port, max_batch, max_wait_ms, max_body_kb, max_texts, body_timeout, access_log):
    """Serve a model over HTTP (needs windowclf[serve]).

    POST /entities {"text": "..."} or {"texts": [...]} (and "tokenizer") answers the entity records
    tag_text gives (docs/entities.md); POST /tag {"tokens": [...]} or {"sentences": [[...], ...]}
    answers tags and entities of pre-tokenized sentences; GET /health; GET /model (what info --json
    prints). Concurrent requests are scored together. Errors are JSON {"error": ...}: 400 (not
    JSON), 422 (wrong shape), 413 (body or request too large), 408 (body too slow), 503 (busy).
    Listens on 127.0.0.1 unless --host says otherwise; SIGTERM answers the requests in flight, then
    exits 0.

    \b
    Example:
      windowclf serve -m runs/ner.npz --port 8000
      curl -s localhost:8000/entities -d '{"text": "Anna Keller flew from Oslo to Lyon."}'
    """
    try:
        from windowclf.serve.app import Limits, make_app
        from windowclf.serve.server import bind
        from windowclf.serve.server import serve as run_server
    except ImportError:
        raise click.ClickException(SERVE_HINT) from None
    from windowclf.models.ensemble import describe_file, load_any

    model = load_any(model_path, training_state=False)
    is_ensemble, described = describe_file(model_path)  # GET /model: what info --json prints
    if is_ensemble:
        info = ensemble_summary(model_path, described)
    else:
        tagger, shapes, pretrained = described[0]
        info = model_summary(tagger, file_name(model_path), shapes, pretrained)
    limits = Limits(
        max_body=max_body_kb * 1024,
        max_texts=max_texts,
        body_timeout=body_timeout,
        max_batch=max_batch,
        max_wait=max_wait_ms / 1000,
    )
    app = make_app(model, limits=limits, info=info)
    try:
        sock = bind(host, port)
    except OSError as err:
        raise click.UsageError(f"--host {host} --port {port}: {err.strerror or err}") from None
    address = sock.getsockname()
    shown = f"[{address[0]}]" if ":" in address[0] else address[0]
    click.echo(printable(f"serving {model_path} on http://{shown}:{address[1]} (SIGTERM or Ctrl-C stops)"), err=True)
    caught = run_server(app, sock, access_log=access_log)
    click.echo(f"stopped ({'SIGTERM' if caught else 'no signal'}): the requests in flight were answered", err=True)
