-- KEYS[1] seat counter, KEYS[2] generation; ARGV[1] count, ARGV[2] new generation, ARGV[3] 'nx' to
-- install only a missing counter (a counter another process recreated, and perhaps already
-- decremented, wins) or 'force' to overwrite (reconcile). Returns the counter.
if ARGV[3] == 'nx' then
  if redis.call('SET', KEYS[1], ARGV[1], 'NX') then redis.call('SET', KEYS[2], ARGV[2]) end
else
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], ARGV[2])
end
return redis.call('GET', KEYS[1])
