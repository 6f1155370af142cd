-- KEYS[1] seat counter, KEYS[2] generation; ARGV[1] seats, ARGV[2] generation they were taken from.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then return -1 end
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('INCRBY', KEYS[1], ARGV[1])
