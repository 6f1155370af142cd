-- KEYS[1] the cached longest flight duration; ARGV[1] a candidate.
-- Raise-only: concurrent writers can never lower the bound another one just recorded.
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
local candidate = tonumber(ARGV[1])
if candidate > current then redis.call('SET', KEYS[1], candidate) return candidate end
return current
