-- Adds a cache entry's key to more tags' sets (another page read it), so
-- that invalidating any of them reaches the entry. Each set lives as long
-- as its longest entry.
--
-- KEYS: the tags' sets. ARGV[1]: the entry's key; ARGV[2]: its TTL in ms.
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[1])
  local left = redis.call('PTTL', KEYS[i])
  if left == -1 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
