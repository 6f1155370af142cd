from app.models.base import Base
from app.models.models import (
    SEAT_HOLDING_STATUSES,
    Airport,
    Booking,
    BookingStatus,
    BulkJob,
    BulkJobChunk,
    Flight,
    IdempotencyKey,
    JobStatus,
    User,
)

__all__ = [
    "SEAT_HOLDING_STATUSES",
    "Airport",
    "Base",
    "Booking",
    "BookingStatus",
    "BulkJob",
    "BulkJobChunk",
    "Flight",
    "IdempotencyKey",
    "JobStatus",
    "User",
]
