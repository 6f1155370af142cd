-- KEYS[1] seat counter; ARGV[1] delta of total_seats. Refuses to drop below zero: those seats are sold.
local current = redis.call('GET', KEYS[1])
if not current then return {-1, 0} end
local updated = tonumber(current) + tonumber(ARGV[1])
if updated < 0 then return {-2, tonumber(current)} end
redis.call('SET', KEYS[1], updated)
return {0, updated}
