"""Structured JSON logs, Prometheus metrics and Sentry, with secrets kept out of all three."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "knitter_http_requests_total", "HTTP requests by route", ["method", "route", "status"]
)
LATENCY = Histogram(
    "knitter_http_request_duration_seconds", "HTTP request latency by route", ["method", "route"]
)
IMPORTED_SOURCES = Counter(
    "knitter_imported_sources_total", "Sources processed by imports", ["outcome"]
)
IMPORTED_PASSAGES = Counter("knitter_imported_passages_total", "Passages written by imports")
EMBEDDED_TEXTS = Counter("knitter_embedded_texts_total", "Texts embedded", ["provider"])

# What a secret looks like in free text: bearer tokens, JWTs, provider keys, key=value pairs.
SECRET_PATTERNS = [
    re.compile(r"(?i)bearer\s+[\w\-.=]+"),
    re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"),
    re.compile(r"\bsk-[\w-]{8,}"),
    re.compile(r"\bAIza[\w-]{20,}"),
    re.compile(
        r"(?i)((?:api[_-]?key|secret|password|token|authorization)[\"']?\s*[:=]\s*)[^\s,;&\"']+"
    ),
]
SENSITIVE_KEYS = re.compile(
    r"(?i)authorization|cookie|secret|password|token|dsn|(^|[_-])key$|api[_-]?key"
)


def scrub(text: str) -> str:
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.re.groups else "") + "[redacted]", text)
    return text


def scrub_data(value: Any) -> Any:
    """A copy of nested data with sensitive keys and secret-looking strings redacted."""
    if isinstance(value, dict):
        return {
            k: "[redacted]" if isinstance(k, str) and SENSITIVE_KEYS.search(k) else scrub_data(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_data(v) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key in ("route", "method", "status", "duration_ms", "request_id", "job_id"):
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).handlers[:] = []
        logging.getLogger(noisy).propagate = False


def before_send(event: Any, hint: Any) -> Any:
    """Sentry hook: nothing secret leaves the process."""
    return scrub_data(event)


def init_sentry(dsn: str, environment: str, release: str) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        before_send=before_send,
        traces_sample_rate=0.0,
    )
