"""Search query parameters (the response is pre-serialised JSON, see app/services/search/query.py)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, model_validator

from app.schemas.common import AirportName, SeatCount


class SearchQuery(BaseModel):
    source: AirportName
    destination: AirportName
    date: dt.date
    seats: SeatCount = 1

    @model_validator(mode="after")
    def _distinct(self) -> SearchQuery:
        if self.source.casefold() == self.destination.casefold():
            raise ValueError("source and destination must differ")
        return self
