-- The timetable feed's head, created when missing (app/search/timetable.py): read by a reader
-- before it loads the timetable from PostgreSQL, so that any change published later is seen.
-- KEYS[1]: the head (hash: epoch, seq); KEYS[2]: the feed (stream). ARGV[1]: a fresh epoch.
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'seq', 0)
end
return redis.call('HMGET', KEYS[1], 'epoch', 'seq')
