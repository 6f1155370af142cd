-- KEYS[1] day; ARGV: expected gen, expire-at, tag, then field/value pairs (the whole new content).
-- Fields '\0' and '\1' are storage.BUILT and storage.GEN.
local g = redis.call('HGET', KEYS[1], '\1') or '0'
if g ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '\0', ARGV[3], '\1', tostring(tonumber(g) + 1))
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
