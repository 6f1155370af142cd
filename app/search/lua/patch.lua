-- KEYS[1] day; ARGV: expected gen, tag, then field/value pairs (empty value: delete the field).
-- Fields '\0' and '\1' are storage.BUILT and storage.GEN.
local g = redis.call('HGET', KEYS[1], '\1') or '0'
if g ~= ARGV[1] or redis.call('HGET', KEYS[1], '\0') ~= ARGV[2] then return 0 end
for i = 3, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i])
  else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('HSET', KEYS[1], '\1', tostring(tonumber(g) + 1))
return 1
