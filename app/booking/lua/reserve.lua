-- KEYS[1] seat counter, KEYS[2] generation; ARGV[1] seats, ARGV[2] generation to set if none yet.
-- Returns {status, seats left, generation}: 0 taken, -1 counter missing, -2 not enough seats.
local seats = redis.call('GET', KEYS[1])
if not seats then return {-1, 0, ''} end
local gen = redis.call('GET', KEYS[2])
if not gen then
  gen = ARGV[2]
  redis.call('SET', KEYS[2], gen)
end
local n = tonumber(ARGV[1])
seats = tonumber(seats)
if seats < n then return {-2, seats, gen} end
return {0, redis.call('DECRBY', KEYS[1], n), gen}
