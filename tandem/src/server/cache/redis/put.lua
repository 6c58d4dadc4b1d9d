-- Stores a cache entry and adds its key to its tags' sets (which live as
-- long as their longest entry), unless a tag was invalidated since the
-- marks were taken.
--
-- KEYS[1]: the entry's hash; KEYS[2..]: its tags' sets, then (when marks
-- are given) the tags' epoch counters, one per mark.
-- ARGV[1]: the entry as JSON; ARGV[2]: its TTL in ms; ARGV[3]: its key;
-- ARGV[4..]: the marks (each tag's epoch when the fetch began).
local checks = #ARGV - 3
for i = 1, checks do
  local now = tonumber(redis.call('GET', KEYS[#KEYS - checks + i]) or '0')
  if now ~= tonumber(ARGV[3 + i]) then
    return 0
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS - checks do
  redis.call('SADD', KEYS[i], ARGV[3])
  local left = redis.call('PTTL', KEYS[i])
  if left == -1 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
