# The mediawatch image: API, dashboards and the worker (scheduler + crawlers) run from it.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY mediawatch mediawatch
COPY crawlers crawlers
COPY classifier classifier
COPY index index
COPY api api
COPY dashboards dashboards
COPY config config
RUN pip install -c constraints.txt . && useradd --system --home /app mediawatch && mkdir -p /data \
    && chown mediawatch /data

# The audit log's HMAC key and anchor live apart from /data (security.audit_key_file): a volume.
RUN mkdir -m 700 /data-audit-keys && chown mediawatch /data-audit-keys
USER mediawatch
ENV MEDIAWATCH_DATA_DIR=/data
EXPOSE 8000
CMD ["mediawatch", "run"]
