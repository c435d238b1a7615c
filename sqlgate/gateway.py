"""The composition root: build a running gateway from :class:`~sqlgate.config.Settings`.

    metastore engine -> credential store -> authenticator
    metastore engine -> model provider ─┬───────────────────────────────┐
    datasource registry (pools) ────────┴-> semantic handler            │
    catalog server (catalog_url) ───────────────────────────────────────┴-> catalog handler
    planner (session commands, builtins, semantic handler, catalog handler)
    wire server (+ metrics endpoint)

Handlers passed to the constructor win over the ones built here (tests inject stand-ins).

Tests start one in-process::

    async with Gateway(settings.replace(port=0, metrics_port=None), credential_store=store) as gw:
        connect to 127.0.0.1:gw.port
"""

from __future__ import annotations

import functools
import hashlib
import logging
import ssl
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from sqlgate.auth.authenticator import Authenticator, OfflineLogins
from sqlgate.auth.channel_binding import certificate_der, tls_server_end_point
from sqlgate.auth.context import ModelVersion
from sqlgate.auth.guards import FailureThrottle, SuccessCache
from sqlgate.auth.store import CredentialStore, MetastoreCredentialStore
from sqlgate.config import Settings, SettingsError
from sqlgate.errors import CONNECTION_FAILURE, PgError
from sqlgate.observability.audit import QueryAudit
from sqlgate.observability.metrics import Metrics
from sqlgate.observability.querylog import QueryLog
from sqlgate.observability.unsupported import UnsupportedLog
from sqlgate.planner.core import CatalogHandler, CorePlanner, SemanticHandler
from sqlgate.wire.options import ServerOptions
from sqlgate.wire.server import WireServer
from sqlgate.wire.workers import WorkerInfo

log = logging.getLogger("sqlgate")


def tls_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2+) for the configured certificate and key."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise SettingsError(f"cannot load the TLS certificate/key: {exc}") from None
    context.set_alpn_protocols(["postgresql"])
    return context


class Gateway:
    """A gateway: wire server, authenticator and planner, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        credential_store: CredentialStore | None = None,
        semantic: SemanticHandler | None = None,
        catalog: CatalogHandler | None = None,
        metrics: Metrics | None = None,
        worker: WorkerInfo | None = None,
    ) -> None:
        self.settings = settings
        self.worker = worker
        self._store = credential_store
        self.semantic = semantic
        self.catalog = catalog
        self.metrics = metrics or Metrics()
        self.engine: Any = None
        self.authenticator: Authenticator | None = None
        self.planner: CorePlanner | None = None
        self.server: WireServer | None = None
        self.metrics_port: int | None = None
        self.sources: Any = None  # the SourceRegistry, when the gateway builds the semantic handler
        self.query_log: QueryLog | None = None
        self.models: Any = None  # the CachedModelProvider, shared by the semantic and catalog handlers
        self.unsupported: UnsupportedLog | None = None
        self.catalog_server: Any = None  # the CatalogServer, when the gateway builds the catalog handler
        self._executor: ThreadPoolExecutor | None = None

    @property
    def port(self) -> int:
        assert self.server is not None, "the gateway is not started"
        return self.server.port

    def _credential_store(self) -> CredentialStore:
        if self._store is not None:
            return self._store
        return MetastoreCredentialStore(self._metadata_engine(), self.settings.metadata_url)

    def _metadata_engine(self) -> Any:
        if self.engine is None:
            if not self.settings.metadata_url:
                raise SettingsError("no metadata database: set --metadata-url or SQLGATE_METADATA_URL")
            from sqlgate.metastore.engine import create_metadata_engine

            self.engine = create_metadata_engine(self.settings.metadata_url)
        return self.engine

    def _model_provider(self) -> Any:
        """Compiled models of the metadata database's model versions (shared by both handlers)."""
        if self.models is None:
            from sqlgate.metastore import logins
            from sqlgate.planner.semantic.models import CachedModelProvider

            engine = self._metadata_engine()

            async def load_files(version_id: str) -> list[tuple[str, str]]:
                try:
                    files = await logins.load_model_files(engine, version_id)
                except PgError:
                    raise
                except Exception as exc:  # the metadata database is down or unreachable
                    log.warning("loading model files failed: %s", type(exc).__name__)
                    raise PgError(
                        CONNECTION_FAILURE, "the metadata database is unavailable: cannot load the model"
                    ) from None
                return [(f.name, f.code) for f in files]

            async def current_version(datasource_id: str) -> ModelVersion:
                record = await logins.active_model_version(engine, datasource_id)
                return ModelVersion(record.version_id, record.branch_id, record.checksum)

            self.models = CachedModelProvider(
                load_files, current_version, refresh_seconds=self.settings.model_refresh_seconds
            )
        return self.models

    def _semantic_handler(self) -> SemanticHandler | None:
        """The semantic planner over the metadata database's models and the datasources' pools."""
        if self.semantic is not None or not self.settings.metadata_url:
            return self.semantic
        from sqlgate.planner.semantic import DEFAULT_PLAN_CACHE, prepare_semantic
        from sqlgate.sources.registry import SourceRegistry

        s = self.settings
        self.sources = SourceRegistry(
            pool_max_size=s.datasource_pool_size,
            max_concurrent_queries=s.datasource_max_concurrent,
            queue_timeout=s.datasource_queue_timeout,
            connect_timeout=s.datasource_connect_timeout,
        )
        self.sources.wait_observer = self.metrics.slot_waited
        self.metrics.watch_plan_cache(DEFAULT_PLAN_CACHE)
        handler = functools.partial(prepare_semantic, models=self._model_provider(), sources=self.sources)
        handler.accepts_text_only = True  # type: ignore[attr-defined]  # parses on a plan-cache miss
        return handler

    def _catalog_handler(self) -> CatalogHandler | None:
        """Catalog answers from shadow databases on the catalog server (default: the metadata server)."""
        if self.catalog is not None or not self.settings.metadata_url:
            return self.catalog
        from sqlgate.auth.verifier import make_verifier
        from sqlgate.planner.catalog.handler import CatalogHandler as ShadowCatalogHandler
        from sqlgate.planner.catalog.server import CatalogOptions, CatalogServer, admin_secret
        from sqlgate.upstream.urls import UrlError, endpoint_from_url

        s = self.settings
        try:
            admin = endpoint_from_url(s.catalog_url or s.metadata_url or "")
        except UrlError as exc:
            raise SettingsError(f"catalog_url: {exc}") from None
        password = CatalogOptions.derive_password(s.catalog_secret or admin_secret(admin), s.catalog_role)
        # A verifier with a salt derived from the password: every process sends the same one.
        salt = hashlib.sha256(("sqlgate catalog salt " + password).encode()).digest()[:16]
        options = CatalogOptions(
            admin=admin,
            role=s.catalog_role,
            role_password=password,
            role_verifier=make_verifier(password, salt=salt),
            statement_timeout=s.catalog_statement_timeout,
            max_rows=s.catalog_max_rows,
            pool_size=s.catalog_pool_size,
        )
        self.catalog_server = CatalogServer(options)
        return ShadowCatalogHandler(self.catalog_server, self._model_provider())

    def _server_options(self) -> ServerOptions:
        s = self.settings
        context = None
        binding = None
        if s.tls_cert and s.tls_key:
            context = tls_context(s.tls_cert, s.tls_key)
            binding = tls_server_end_point(certificate_der(s.tls_cert))
        return ServerOptions(
            host=s.host,
            port=s.port,
            tls=context,
            channel_binding=binding,
            max_connections=s.max_connections,
            max_connections_per_credential=s.max_connections_per_credential,
            require_tls=s.require_tls,
            statement_timeout=s.statement_timeout,
            max_result_rows=s.max_result_rows,
            startup_timeout=s.startup_timeout,
            idle_session_timeout=s.idle_session_timeout,
            max_message_size=s.max_message_size,
            shutdown_timeout=s.shutdown_timeout,
            write_buffer_size=s.write_buffer_size,
            reuse_port=s.reuse_port,
            log_queries=s.log_queries,
        )

    async def start(self) -> None:
        """Build and start everything; a failure part-way stops what was started."""
        try:
            await self._start()
        except BaseException:
            await self.stop(timeout=0)
            raise

    async def _start(self) -> None:
        s = self.settings
        s.validate()
        options = self._server_options()
        store = self._credential_store()
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, s.auth_threads), thread_name_prefix="sqlgate-auth"
        )
        self.authenticator = Authenticator(
            store,
            allow_cleartext=s.allow_cleartext,
            password_method=s.password_method,  # type: ignore[arg-type]
            throttle=FailureThrottle(free_attempts=s.auth_free_attempts, max_delay=s.auth_failure_delay_max),
            cache=SuccessCache(ttl=s.auth_cache_seconds),
            executor=self._executor,
            scram_iterations=s.scram_iterations,
            upgrade_legacy=s.upgrade_legacy_passwords,
            context_refresh_seconds=s.access_refresh_seconds,
            offline=OfflineLogins(s.auth_offline_cache_seconds),
        )
        self.planner = CorePlanner(semantic=self._semantic_handler(), catalog=self._catalog_handler())
        audit = None
        if s.query_log and s.metadata_url:
            self.query_log = QueryLog(s.metadata_url)
            self.query_log.start()
            audit = QueryAudit(self.query_log)
        if s.log_unsupported:
            try:
                self.unsupported = UnsupportedLog(s.log_unsupported)
            except OSError as exc:
                raise SettingsError(
                    f"cannot open --log-unsupported {s.log_unsupported}: {exc.strerror}"
                ) from None
        self.server = WireServer(
            options,
            self.planner,
            self.authenticator,
            self.metrics,
            audit,
            unsupported=self.unsupported,
            worker=self.worker,
        )
        await self.server.start()
        if s.metrics_port is not None:
            try:
                self.metrics_port = self.metrics.serve(s.metrics_port, s.metrics_host)
            except OSError as exc:
                raise SettingsError(
                    f"cannot serve metrics on {s.metrics_host}:{s.metrics_port}: {exc.strerror or exc}"
                ) from None
        log.info(
            "sqlgate listening on %s:%d%s%s",
            s.host,
            self.server.port,
            " (TLS available)" if options.tls else "",
            f", metrics on {s.metrics_host}:{self.metrics_port}" if self.metrics_port is not None else "",
        )

    async def stop(self, timeout: float | None = None) -> None:
        """Drain and stop: see :meth:`sqlgate.wire.server.WireServer.shutdown`."""
        if self.server is not None:
            await self.server.shutdown(timeout)
        if self.authenticator is not None:
            await self.authenticator.close()
            store_close = getattr(self.authenticator.store, "aclose", None)
            if store_close is not None and self._store is None:
                await store_close()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.metrics.stop()
        if self.sources is not None:
            await self.sources.aclose()
            self.sources = None
        if self.catalog_server is not None:
            await self.catalog_server.close()
        if self.unsupported is not None:
            self.unsupported.close()
            self.unsupported = None
        if self.query_log is not None:
            await self.query_log.aclose()
            self.query_log = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop(timeout=5)
