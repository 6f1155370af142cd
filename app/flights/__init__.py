"""Flights: admin CRUD, the seat inventory, and the change events other domains follow."""
