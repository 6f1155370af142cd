"""Bulk CSV upsert of flights: upload intake, streaming parse, batched upsert, durable jobs."""
