"""Airline operations: manifests, airline cancellations, schedule changes, reports.

Above booking in the layers: it changes bookings and orders directly on their tables, under the
same seat locks as the booking paths (docs/operations.md).
"""
