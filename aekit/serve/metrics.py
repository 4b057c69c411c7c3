"""The server's Prometheus metrics, answered at ``/metrics`` in Prometheus' text format.

- ``aekit_serve_requests_total{endpoint, model, code}``: requests answered;
- ``aekit_serve_request_errors_total{endpoint, model, code}``: those answered with a 4xx or 5xx;
- ``aekit_serve_request_seconds{endpoint, model}``: a histogram of the time to answer;
- ``aekit_serve_requests_in_flight``: requests being answered now;
- ``aekit_serve_batch_rows{model}``: a histogram of the rows of each call of a model;
- ``aekit_serve_model_ready{model}``: 1 once a model is loaded, 0 before or if it cannot load.

Labels name only the server's own endpoints and models (anything else is ``other``), so no
client can grow the label sets. Each application has a registry of its own.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The counters and histograms of one server."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("endpoint", "model", "code")
        self.requests = Counter(
            "aekit_serve_requests", "Requests answered", labels, registry=self.registry
        )
        self.errors = Counter(
            "aekit_serve_request_errors",
            "Requests answered with an error (4xx, 5xx)",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "aekit_serve_request_seconds",
            "Time to answer a request",
            ("endpoint", "model"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "aekit_serve_requests_in_flight", "Requests being answered", registry=self.registry
        )
        self.batch_rows = Histogram(
            "aekit_serve_batch_rows",
            "Rows in one call of a model (requests batched together)",
            ("model",),
            buckets=ROW_BUCKETS,
            registry=self.registry,
        )
        self.ready = Gauge(
            "aekit_serve_model_ready",
            "1 once the model is loaded",
            ("model",),
            registry=self.registry,
        )

    def answered(self, endpoint: str, model: str, code: int, seconds: float) -> None:
        labels = {"endpoint": endpoint, "model": model, "code": str(code)}
        self.requests.labels(**labels).inc()
        if code >= 400:
            self.errors.labels(**labels).inc()
        self.latency.labels(endpoint=endpoint, model=model).observe(seconds)

    def answered_infers(self) -> int:
        """Inference requests answered with 200, over all models."""
        samples = self.requests.collect()[0].samples
        return int(
            sum(
                s.value
                for s in samples
                if s.name.endswith("_total")
                and s.labels["endpoint"] == "infer"
                and s.labels["code"] == "200"
            )
        )

    def batch(self, model: str) -> callable:
        """The observer of one model's batch sizes (for its Batcher)."""
        histogram = self.batch_rows.labels(model=model)
        return lambda rows: histogram.observe(rows)

    def text(self) -> bytes:
        return generate_latest(self.registry)
