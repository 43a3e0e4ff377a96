# The ledger service image; docker-compose.yml runs it next to PostgreSQL 16.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY events ./events
COPY ledger ./ledger
COPY projections ./projections
RUN pip install . \
    && useradd --create-home --uid 10001 ledger \
    && install -d -o ledger -g ledger -m 0700 /home/ledger/keys

# Not root: with no LEDGER_DATABASE_URL the embedded PostgreSQL runs as this user,
# keeping its data in the volume-friendly directory below.
USER ledger
ENV LEDGER_HOST=0.0.0.0 \
    LEDGER_PORT=8080 \
    LEDGER_DATA_DIR=/home/ledger/data
EXPOSE 8080

CMD ["ledger", "serve", "--host", "0.0.0.0"]
