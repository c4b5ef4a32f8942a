# The Chatcart image for docker-compose.yml: one image for `serve`, `worker` and `db upgrade`.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CHATCART_DATA_DIR=/var/lib/chatcart
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY core core
COPY bot bot
COPY admin_web admin_web
RUN pip install . && useradd --system --home /var/lib/chatcart chatcart \
    && mkdir -p /var/lib/chatcart && chown chatcart /var/lib/chatcart
USER chatcart
EXPOSE 8000
CMD ["chatcart", "serve", "--host", "0.0.0.0", "--port", "8000"]
