-- KEYS: days; ARGV[1] tag, then per day: expected gen, number of field/value pairs, the pairs.
-- Per day exactly patch.lua (1 written, 0 refused).
local out = {}
local a = 2
for i = 1, #KEYS do
  local expected, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local g = redis.call('HGET', KEYS[i], '\1') or '0'
  if g == expected and redis.call('HGET', KEYS[i], '\0') == ARGV[1] then
    for j = a, a + 2 * n - 1, 2 do
      if ARGV[j + 1] == '' then redis.call('HDEL', KEYS[i], ARGV[j])
      else redis.call('HSET', KEYS[i], ARGV[j], ARGV[j + 1]) end
    end
    redis.call('HSET', KEYS[i], '\1', tostring(tonumber(g) + 1))
    out[i] = 1
  else
    out[i] = 0
  end
  a = a + 2 * n
end
return out
