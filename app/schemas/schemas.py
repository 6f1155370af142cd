"""The seed's single schemas module: re-exports every schema from its domain module."""

from app.schemas.airports import AirportOut, AirportTimezoneIn
from app.schemas.auth import Token, UserCreate, UserOut
from app.schemas.flights import FlightFilter, FlightIn, FlightOut, FlightPage

__all__ = [
    "AirportOut",
    "AirportTimezoneIn",
    "FlightFilter",
    "FlightIn",
    "FlightOut",
    "FlightPage",
    "Token",
    "UserCreate",
    "UserOut",
]
