"""FastAPI application factory.

``create_app(runtime)`` wires the REST API (:mod:`.api`) and the dashboard (:mod:`.dashboard`),
serves the tracker at ``/t/replayvault.js`` and static assets at ``/static``, turns every
:class:`~replayvault.errors.ReplayVaultError` into a JSON error body, and sets a strict
Content-Security-Policy on dashboard pages so replays cannot run scripts or reach other hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ..config import get_settings
from ..errors import AccessDenied, NotAuthenticated, PasswordChangeRequired, ReplayVaultError, TooManyAttempts
from ..runtime import Runtime
from . import api, api_audit, api_people, dashboard
from . import api_analytics, dashboard_analytics, dashboard_behaviour
from . import api_governance, api_integration, api_reviews, dashboard_budget, dashboard_governance, dashboard_reviews
from . import api_compliance, dashboard_compliance
from .auth import enforce

__all__ = ["create_app", "STATIC_DIR"]

access_log = logging.getLogger("replayvault.access")
STATIC_DIR = Path(__file__).resolve().parent / "static"

#: CSP of dashboard pages (https://www.w3.org/TR/CSP3/): only our own scripts; replays (about:blank
#: iframes inherit this policy) cannot load anything from third-party hosts.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status)


async def _checkpoint_loop(rt: Runtime) -> None:
    """Sign an audit checkpoint every ``checkpoint_interval_s`` seconds when the log grew."""
    from fastapi.concurrency import run_in_threadpool

    while True:
        await asyncio.sleep(rt.settings.checkpoint_interval_s)
        try:
            await run_in_threadpool(rt.audit.checkpoint)
        except Exception as exc:  # keep serving; `audit verify` reports what is wrong
            logging.getLogger("replayvault.audit").error("scheduled checkpoint failed: %s", exc)


async def _retention_loop(rt: Runtime) -> None:
    """Run the retention sweep (governance.retention) at start, then every ``retention_interval_s`` seconds."""
    from fastapi.concurrency import run_in_threadpool

    from ..governance.shredding import sweep

    while True:
        try:
            result = await run_in_threadpool(sweep, rt, actor="scheduler")
            if result.shredded:
                logging.getLogger("replayvault.retention").info(
                    "retention sweep: %d sessions crypto-shredded, %d kept under legal hold",
                    len(result.shredded), len(result.held))
        except Exception as exc:  # keep serving; the next run retries (a half-done session is finished then)
            logging.getLogger("replayvault.retention").error("retention sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(rt.settings.retention_interval_s)


def _lifespan(rt: Runtime):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        task = asyncio.create_task(_checkpoint_loop(rt)) if rt.settings.checkpoint_interval_s > 0 else None
        sweeper = asyncio.create_task(_retention_loop(rt)) if rt.settings.retention_interval_s > 0 else None
        pusher = (asyncio.create_task(api_integration.push_loop(rt))  # SIEM/GRC webhook (compliance.webhook)
                  if rt.settings.webhook_url and rt.settings.webhook_interval_s > 0 else None)
        yield
        for t in (task, sweeper, pusher):
            if t:
                t.cancel()

    return lifespan


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """Build the ASGI app on ``runtime`` (default: a :class:`Runtime` from the environment's settings)."""
    rt = runtime or Runtime(get_settings())
    # No Swagger UI: it loads scripts from a CDN, which the dashboard CSP (rightly) forbids.
    # enforce() applies governance.permissions.ROUTE_RULES before every route.
    app = FastAPI(title="replayvault", version="0.1.0", docs_url=None, redoc_url=None,
                  dependencies=[Depends(enforce)], lifespan=_lifespan(rt))
    app.state.rt = rt

    @app.exception_handler(ReplayVaultError)
    async def _rv_error(req: Request, exc: ReplayVaultError) -> Response:
        page = (req.method == "GET" and not req.url.path.startswith(("/api/", "/t/", "/static/"))
                and req.url.path != "/metrics")  # a scraper gets 401/403 JSON, not the login page
        if isinstance(exc, NotAuthenticated) and page:
            return RedirectResponse(f"/login?next={quote(req.url.path, safe='/')}", status_code=303)
        who = getattr(req.state, "principal", None) if page else None
        if who is not None and isinstance(exc, PasswordChangeRequired):
            return RedirectResponse("/account/password", status_code=303)
        if who is not None and req.url.path == "/" and isinstance(exc, AccessDenied):
            return RedirectResponse(dashboard.landing(who.permissions), status_code=303)
        if who is not None:
            return dashboard.error_page(req, exc)  # a person is looking: an HTML page with the menu
        resp = _error(exc.status_code, str(exc))
        if isinstance(exc, TooManyAttempts):
            resp.headers["Retry-After"] = str(exc.retry_after)
        origin = getattr(exc, "cors_origin", None)
        if origin:
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Vary"] = "Origin"
        return resp

    @app.exception_handler(SQLAlchemyError)
    async def _db_error(_req: Request, exc: SQLAlchemyError) -> JSONResponse:
        # Never echo the statement: it can hold request data. Nothing was committed.
        logging.getLogger("replayvault.db").error("database error: %s", type(exc).__name__)
        return _error(503, "database unavailable; the action was not performed")

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:5])
        return _error(400, f"invalid request parameters: {fields}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        response = await call_next(request)
        # Path only: query strings may hold a write key (?key=) or page URLs.
        access_log.info("%s %s %d %.1f ms", request.method, request.url.path, response.status_code,
                        (time.perf_counter() - started) * 1000)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin: our own form posts carry their Origin (checked on login), nothing goes elsewhere.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.url.path.startswith(("/api/v1/ingest", "/api/v1/consent", "/t/")):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith(("/static/", "/t/")):
            response.headers.setdefault("Cache-Control", "no-store")  # session data must not linger in caches
        return response

    @app.get("/t/replayvault.js", include_in_schema=False)
    def tracker() -> FileResponse:
        """The built browser tracker (cacheable 5 min, loadable cross-origin by the sites it records)."""
        path = STATIC_DIR / "replayvault.js"
        if not path.exists():
            raise ReplayVaultError("tracker is not built; run `make build` (cd tracker && npm ci && npm run build)")
        return FileResponse(path, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"})

    # A page on another site can point its own host name at 127.0.0.1 (DNS rebinding) and read the
    # API from a browser; answering only known Host names stops that.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=rt.settings.host_names or ["127.0.0.1"])
    app.include_router(api_analytics.router)  # before api: /sessions/search is not a session id
    app.include_router(api.router)
    app.include_router(api_people.router)
    app.include_router(api_audit.router)
    app.include_router(api_governance.router)
    app.include_router(api_integration.router)  # SIEM/GRC feeds and /metrics
    app.include_router(dashboard_governance.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_behaviour.router)
    app.include_router(dashboard_analytics.router)
    app.include_router(dashboard_analytics.api_router)
    app.include_router(dashboard_budget.router)
    app.include_router(api_reviews.router)
    app.include_router(dashboard_reviews.router)
    app.include_router(api_compliance.router)
    app.include_router(dashboard_compliance.router)
    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
