-- Removes the entries of a tag (update_tag, revalidate_path), counts it in
-- the tag's epoch, then publishes the invalidation.
--
-- KEYS[1]: the tag's set; KEYS[2]: its epoch counter.
-- ARGV[1]: the prefix of entry keys; ARGV[2]: the channel; ARGV[3]: the
-- message.
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('DEL', ARGV[1] .. key)
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
