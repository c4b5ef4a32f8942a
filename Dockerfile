# The Chatcart image for docker-compose.yml: one image for `serve`, `worker` and `db upgrade`.
FROM python:3.11-slim
# Alone (without docker-compose.yml) it keeps an SQLite shop in its data volume:
# docker run -v chatcart:/var/lib/chatcart chatcart chatcart demo --host 0.0.0.0
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CHATCART_DATA_DIR=/var/lib/chatcart \
    DATABASE_URL=sqlite+aiosqlite:////var/lib/chatcart/chatcart.db
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
