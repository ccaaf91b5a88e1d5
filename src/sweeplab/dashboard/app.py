"""The dashboard's web application (Starlette): pages, JSON, server-sent events, access control.

Routes (all read-only; any method but GET and HEAD gets 405)::

    /                                   the index of sweeps
    /sweep/{sweep_id}                   a sweep's page
    /sweep/{sweep_id}/trial/{key}       a trial's page
    /static/{name}                      the pages' script and style, and plotly.js from the plotly package
    /api/sweeps[/{sweep_id}[/trials/{key}]]      the same data as JSON
    /api/events/index, /api/events/sweeps/{sweep_id}   the same data pushed (text/event-stream)

The pages are fixed files; everything they show arrives as JSON and is put into the page as
text, never parsed as HTML. Access: without a token only a request naming a loopback host is
answered (a web page elsewhere cannot reach the dashboard through a rebound DNS name); with a
token every request must carry it (``?token=``, then a cookie the first answer sets, or an
``Authorization: Bearer`` header), else 401.
"""

from __future__ import annotations

import hmac
import logging
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .catalog import Catalog, valid_sweep_id, valid_trial_key
from .snapshot import trial_snapshot
from .watch import INTERVAL, Hub

__all__ = ["create_app", "COOKIE", "LOOPBACK_HOSTS"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "sweeplab_dashboard_token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
_PAGES = {"index": "index.html", "sweep": "sweep.html", "trial": "trial.html"}
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the token may be in the address
    "Cache-Control": "no-store",
}


def _static_files() -> dict[str, Path]:
    """The only files /static/ serves, by name: nothing from a URL becomes a path."""
    import plotly

    files = {name: STATIC / name for name in ("dashboard.js", "dashboard.css")}
    files["plotly.min.js"] = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return files


def host_name(host_header: str) -> str:
    """The host of a Host header without its port: ``127.0.0.1:8765`` → ``127.0.0.1``, ``[::1]:80`` → ``[::1]``."""
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0]


class AccessGuard:
    """ASGI middleware: the token (when there is one) or a loopback Host header; GET and HEAD only."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    def _query_token(self, scope: Scope) -> str | None:
        values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        return values[0] if values else None

    def _given(self, scope: Scope, headers: dict[bytes, bytes]) -> str | None:
        query = self._query_token(scope)
        if query:
            return query
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get(b"cookie", b"").decode("latin-1"))
        except Exception:  # a malformed cookie header is no token
            return None
        morsel = cookie.get(COOKIE)
        return morsel.value if morsel else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if scope["method"] not in ("GET", "HEAD"):
            await PlainTextResponse("the dashboard is read-only", status_code=405,
                                    headers={"Allow": "GET, HEAD"})(scope, receive, send)
            return
        if self.token is None:
            host = host_name(headers.get(b"host", b"").decode("latin-1"))
            if host not in LOOPBACK_HOSTS:
                await PlainTextResponse(f"host {host!r} refused: open the dashboard at 127.0.0.1",
                                        status_code=403)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        given = self._given(scope, headers)
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            await PlainTextResponse("401: this dashboard needs its token: open the address 'sweeplab dashboard' "
                                    "printed (it ends in ?token=...)", status_code=401)(scope, receive, send)
            return
        if self._query_token(scope):  # remember it, so the page's own requests need not carry it
            async def send_with_cookie(message: Any) -> None:
                if message["type"] == "http.response.start":
                    message.setdefault("headers", [])
                    message["headers"] = list(message["headers"]) + [
                        (b"set-cookie", f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode())]
                await send(message)
            await self.app(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send)


def create_app(sweep_dir: Path, db_path: Path, *, token: str | None = None,
               interval: float = INTERVAL) -> Starlette:
    """The dashboard of the sweeps under ``sweep_dir`` and in ``db_path``; ``token``: required by every request."""
    catalog = Catalog(sweep_dir, db_path)
    hub = Hub(catalog, interval=interval)
    static = _static_files()

    def page(name: str) -> Response:
        return FileResponse(STATIC / _PAGES[name], media_type="text/html", headers=_HEADERS)

    def not_found(what: str) -> PlainTextResponse:
        return PlainTextResponse(f"404: {what}", status_code=404, headers=_HEADERS)

    async def index(request: Request) -> Response:
        return page("index")

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    async def sweep_page(request: Request) -> Response:
        if not valid_sweep_id(request.path_params["sweep_id"]):
            return not_found("no such sweep")
        return page("sweep")

    async def trial_page(request: Request) -> Response:
        if not valid_sweep_id(request.path_params["sweep_id"]) or not valid_trial_key(request.path_params["key"]):
            return not_found("no such trial")
        return page("trial")

    async def static_file(request: Request) -> Response:
        path = static.get(request.path_params["name"])
        if path is None:
            return not_found("no such file")
        return FileResponse(path, headers={**_HEADERS, "Cache-Control": "max-age=3600"})

    def _sweep_key(request: Request) -> tuple[str, ...] | None:
        sweep_id = request.path_params["sweep_id"]
        if not valid_sweep_id(sweep_id):
            return None
        return ("sweep", sweep_id, request.query_params.get("metric", "")[:200])

    async def api_index(request: Request) -> Response:
        return Response(await hub.current(("index",)), media_type="application/json", headers=_HEADERS)

    async def api_sweep(request: Request) -> Response:
        key = _sweep_key(request)
        if key is None:
            return not_found("no such sweep")
        return Response(await hub.current(key), media_type="application/json", headers=_HEADERS)

    async def api_trial(request: Request) -> Response:
        sweep_id, trial_key = request.path_params["sweep_id"], request.path_params["key"]
        if not valid_sweep_id(sweep_id) or not valid_trial_key(trial_key):
            return not_found("no such trial")
        import asyncio

        data = await asyncio.to_thread(trial_snapshot, catalog, sweep_id, trial_key)
        if data is None:
            return not_found("no such trial")
        return JSONResponse(data, headers=_HEADERS)

    def stream(key: tuple[str, ...]) -> Response:
        async def events() -> Any:
            async for payload in hub.subscribe(key):
                yield {"event": "update", "data": payload}
        return EventSourceResponse(events(), ping=15, headers={"Cache-Control": "no-store"})

    async def events_index(request: Request) -> Response:
        return stream(("index",))

    async def events_sweep(request: Request) -> Response:
        key = _sweep_key(request)
        return not_found("no such sweep") if key is None else stream(key)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        hub.start()
        yield
        await hub.stop()

    app = Starlette(routes=[
        Route("/", index), Route("/favicon.ico", favicon), Route("/sweep/{sweep_id}", sweep_page), Route("/sweep/{sweep_id}/trial/{key}", trial_page),
        Route("/static/{name}", static_file),
        Route("/api/sweeps", api_index), Route("/api/sweeps/{sweep_id}", api_sweep),
        Route("/api/sweeps/{sweep_id}/trials/{key}", api_trial),
        Route("/api/events/index", events_index), Route("/api/events/sweeps/{sweep_id}", events_sweep),
    ], lifespan=lifespan)
    app.state.hub = hub
    app.add_middleware(AccessGuard, token=token)
    return app
