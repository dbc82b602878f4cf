"""A service instrumented with the stock OpenTelemetry Python SDK, as a user would write it.

A MeterProvider with a resource (a fresh service.instance.id per process), two counters and the
OTLP/HTTP protobuf exporter on a short interval. Run as a child process by
test/otlp-exporters.test.ts, which kills and restarts it. Environment: OTLP_URL, ERRORS_PER_TICK.
"""
import os
import sys
import time
import uuid

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

resource = Resource.create({
    "service.name": "lambda-ingestion",
    "service.instance.id": str(uuid.uuid4()),
    "process.pid": os.getpid(),
    "cloud.region": "eu-west-1",
})
reader = PeriodicExportingMetricReader(
    OTLPMetricExporter(endpoint=os.environ["OTLP_URL"]),
    export_interval_millis=200,
    export_timeout_millis=150,
)
provider = MeterProvider(resource=resource, metric_readers=[reader])
meter = provider.get_meter("ingest")
rows = meter.create_counter("ingest.rows", unit="{row}")
errors = meter.create_counter("ingest.errors", unit="{error}")
per_tick = int(os.environ.get("ERRORS_PER_TICK", "0"))
print("ready", flush=True)
while True:
    rows.add(100, {"source": "web-vitals-crm"})
    errors.add(per_tick, {"source": "web-vitals-crm"})
    time.sleep(0.1)
