-- Append one entry to the timetable feed (app/search/timetable.py).
-- KEYS[1]: the feed's head (hash: epoch, seq); KEYS[2]: the feed (stream). One hash tag: one slot.
-- ARGV[1]: a fresh epoch, taken when the head is missing (Redis lost it: every reader reloads);
-- ARGV[2]: the changed flights' raw 16-byte ids, concatenated ("" asks every reader to reload);
-- ARGV[3]: entries kept, approximately (a reader further behind reloads).
if redis.call('HSETNX', KEYS[1], 'epoch', ARGV[1]) == 1 then
  redis.call('DEL', KEYS[2])
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], seq .. '-1', 'ids', ARGV[2])
return seq
