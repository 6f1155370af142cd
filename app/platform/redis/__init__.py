"""Redis: the client and key layout, the pipelined read multiplexer, the Lua scripts."""
