-- KEYS[1] seat counter, KEYS[2] generation; ARGV[1] total_seats. Removes the counter only if no seat
-- is held or reserved.
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
