"""Prometheus metrics. Services increment these; `/metrics` (observability) exposes them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "flightdesk_http_request_duration_seconds",
    "HTTP request latency by route template and method",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BOOKINGS = Counter(
    "flightdesk_bookings_total",
    "Booking attempts by outcome (CONFIRMED, FAILED, SOLD_OUT, DEPARTED, NOT_FOUND, CANCELLED)",
    ["outcome"],
)
SEARCH_CACHE = Counter(
    "flightdesk_search_cache_total",
    "Search requests answered from the Redis index (hit), by the timetable scan (timetable)"
    " or computed exactly after an index miss (miss)",
    ["result"],
)
SEARCH_SKIPPED_FLIGHTS = Counter(
    "flightdesk_search_skipped_flights",
    "Flight rows the search read and left out: times outside the contract's limits (rows stored "
    "before the database refused them)",
)
JOB_QUEUE_DEPTH = Gauge("flightdesk_job_queue_depth", "Background jobs waiting or running", ["status"])
SEAT_SYNC_LAG = Gauge(
    "flightdesk_seat_sync_lag_seconds", "Seconds since the seat counts were last written back to PostgreSQL"
)
SEAT_SYNC_DIRTY = Gauge("flightdesk_seat_sync_dirty_flights", "Flights whose seat count awaits write-back")
