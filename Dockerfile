# linli: a slim image that runs `linli serve`, configured by environment variables (see README).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LINLI_HOST=0.0.0.0 LINLI_PORT=8080
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY knowledge knowledge
COPY storage storage
RUN pip install --no-cache-dir . && useradd --system --home /app linli && mkdir -p /app/data && chown linli /app/data
USER linli
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os;urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"LINLI_PORT\",\"8080\")}/healthz',timeout=2)"
CMD ["sh", "-c", "linli db upgrade && exec linli serve"]
