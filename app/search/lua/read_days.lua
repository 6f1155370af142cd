-- Many days in one call (a redis-py pipeline costs ~100 us of client CPU per command, and a hub
-- flight's change touches ~200 days): on a single Redis all days at once, on Cluster one call per
-- origin (its days share the {o:<origin>} slot).
-- KEYS: days; ARGV, per day: the number of fields, then the fields. Per day: HMGET BUILT GEN fields.
local out = {}
local a = 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[a])
  local fields = {'\0', '\1'}
  for j = 1, n do fields[j + 2] = ARGV[a + j] end
  a = a + n + 1
  out[i] = redis.call('HMGET', KEYS[i], unpack(fields))
end
return out
