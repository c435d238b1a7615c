# sqlgate: a PostgreSQL wire-protocol gateway. `docker run IMAGE` serves; `docker run IMAGE migrate` etc.
# run any other sqlgate command.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sqlgate ./sqlgate
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# Inside a container the gateway must listen on every interface (the default 127.0.0.1 would only
# be reachable from the container itself).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SQLGATE_HOST=0.0.0.0 \
    SQLGATE_METRICS_HOST=0.0.0.0
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels sqlgate \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin sqlgate
USER sqlgate
# 15432: PostgreSQL protocol (Synmetrix's CUBEJS_PG_SQL_PORT); 9187: Prometheus metrics
EXPOSE 15432 9187
ENTRYPOINT ["sqlgate"]
CMD ["serve"]
