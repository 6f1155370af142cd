-- KEYS: days of one origin (one Cluster slot: the {o:<origin>} tag); ARGV[i]: expire-at of KEYS[i].
-- Not built from now on; writers that read the old gen will fail.
for i = 1, #KEYS do
  redis.call('HDEL', KEYS[i], '\0')
  redis.call('HINCRBY', KEYS[i], '\1', 1)
  if redis.call('TTL', KEYS[i]) < 0 then redis.call('EXPIREAT', KEYS[i], ARGV[i]) end
end
return #KEYS
