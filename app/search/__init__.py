"""Search index (precomputed cheapest itineraries in Redis), kept current by flight events.

See docs/search.md for the design: index layout, update rules, key format, cold path.
"""
