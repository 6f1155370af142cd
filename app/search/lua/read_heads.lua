-- The first pass of a small change's patch (patch.py): per list only what decides whether it must
-- be read whole, not its ~1.4 KB (a hub flight's change names ~2,000-3,600 lists: 3-5 MB).
-- KEYS: days (all on a single Redis, one origin's on Cluster). ARGV[1]: number of flight ids,
-- then the 16-byte ids, then per day one argument: its fields joined by NUL (airport names, from
-- PostgreSQL text, never hold one). One argument per day, not per field: redis-py packed each of
-- a hub change's ~3,000 field arguments at ~1.5 us of the hook's CPU.
-- Per day: {BUILT, GEN, per field false (absent), or the whole list followed by '1' when its
-- flight table holds one of the ids (a record starts there: the patch merges it, so it is read
-- here, in the same call, not in a second one), else its 11-byte header followed by '0'}.
local HEADER, RECORD = 11, 32
local ids = {}
local nids = tonumber(ARGV[1])
for j = 1, nids do ids[j] = ARGV[1 + j] end
local function mentions(list)
  local first = HEADER + 1
  local last = HEADER + string.byte(list, 3) * RECORD
  for j = 1, nids do
    local at = string.find(list, ids[j], first, true)
    while at and at + 15 <= last do
      if (at - first) % RECORD == 0 then return true end
      at = string.find(list, ids[j], at + 1, true)
    end
  end
  return false
end
local out = {}
local a = nids + 2
for i = 1, #KEYS do
  local fields = {'\0', '\1'}
  local n = 0
  for field in string.gmatch(ARGV[a], '[^%z]+') do
    n = n + 1
    fields[n + 2] = field
  end
  a = a + 1
  local values = redis.call('HMGET', KEYS[i], unpack(fields))
  for j = 3, n + 2 do
    local list = values[j]
    if list then
      if mentions(list) then values[j] = list .. '1' else values[j] = string.sub(list, 1, HEADER) .. '0' end
    end
  end
  out[i] = values
end
return out
