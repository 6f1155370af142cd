"""FlightDesk. In comments, "the seed" means the user's original specification documents
(../shared/spec/000_*.txt and 003_*.txt): see docs/architecture.md, "Words used in the code"."""
