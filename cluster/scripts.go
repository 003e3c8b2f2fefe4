package cluster

import "github.com/redis/go-redis/v9"

// The registry's writes are Lua scripts, so that each check-and-change of
// a room is atomic in Redis, and each change publishes its event on the
// room's channel in the same step. Every change of a room's membership
// increments the room's version, carried in the event and in snapshots, so
// that a node can order the two (see view.apply).
//
// Keys, under the prefix (see keys): nodes (set of node ids), node:<id>
// (liveness, with a TTL), node:<id>:sockets (hash socket id → room),
// room:<name>:members (hash socket id → node id), room:<name>:talker (the
// talker's socket id) and room:<name>:ver (the version).

// joinScript adds a member, or changes its role.
// KEYS: members, talker, ver, sockets, room channel.
// ARGV: socket id, node id, talker (1/0), room limit, force (1/0: ignore
// the limit), room name.
// Returns {"full"}, {"taken"} or {"ok", ver, talker, members as a flat
// list of socket id, node id}.
var joinScript = redis.NewScript(`
local sid, node, want, limit, force, room = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6]
local present = redis.call('HGET', KEYS[1], sid)
if not present and not force and redis.call('HLEN', KEYS[1]) >= limit then
  return {'full'}
end
local cur = redis.call('GET', KEYS[2])
if want and cur and cur ~= sid then
  return {'taken'}
end
local v = tonumber(redis.call('GET', KEYS[3]) or '0')
local changed = present ~= node or (want and cur ~= sid) or (not want and cur == sid)
if changed then
  redis.call('PERSIST', KEYS[3])
  if not want and cur == sid then
    redis.call('DEL', KEYS[2])
    v = redis.call('INCR', KEYS[3])
    redis.call('PUBLISH', KEYS[5], cjson.encode({k='l', n=node, s=sid, t=true, v=v}))
  end
  redis.call('HSET', KEYS[1], sid, node)
  if want then redis.call('SET', KEYS[2], sid) end
  v = redis.call('INCR', KEYS[3])
  redis.call('PUBLISH', KEYS[5], cjson.encode({k='j', n=node, s=sid, t=want, v=v}))
end
redis.call('HSET', KEYS[4], sid, room)
return {'ok', v, redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[1])}
`)

// claimScript makes a member the talker of a room that has none.
// KEYS: members, talker, ver, room channel. ARGV: socket id, node id.
// Returns "ok", "taken" or "absent" (not a member).
var claimScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'absent' end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX') then return 'taken' end
local v = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', KEYS[4], cjson.encode({k='t', n=ARGV[2], s=ARGV[1], t=true, v=v}))
return 'ok'
`)

// leaveScript removes a member.
// KEYS: members, talker, ver, sockets, room channel.
// ARGV: socket id, node id, room name.
// Returns 1, or 0 if it was not a member.
var leaveScript = redis.NewScript(`
local sid = ARGV[1]
if redis.call('HGET', KEYS[4], sid) == ARGV[3] then redis.call('HDEL', KEYS[4], sid) end
if redis.call('HDEL', KEYS[1], sid) == 0 then return 0 end
local t = false
if redis.call('GET', KEYS[2]) == sid then redis.call('DEL', KEYS[2]); t = true end
local v = redis.call('INCR', KEYS[3])
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('EXPIRE', KEYS[3], 86400) end
redis.call('PUBLISH', KEYS[5], cjson.encode({k='l', n=ARGV[2], s=sid, t=t, v=v}))
return 1
`)

// reapScript removes a node and every member it had, publishing their
// departures. Only the first caller for a node does it.
// KEYS: nodes, the node's sockets. ARGV: node id, key prefix.
// Returns the number of sockets freed, or -1 if the node was already gone.
var reapScript = redis.NewScript(`
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return -1 end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local sid, r = all[i], ARGV[2] .. 'room:' .. all[i + 1]
  if redis.call('HDEL', r .. ':members', sid) == 1 then
    local t = false
    if redis.call('GET', r .. ':talker') == sid then redis.call('DEL', r .. ':talker'); t = true end
    local v = redis.call('INCR', r .. ':ver')
    if redis.call('EXISTS', r .. ':members') == 0 then redis.call('EXPIRE', r .. ':ver', 86400) end
    redis.call('PUBLISH', r, cjson.encode({k='l', n=ARGV[1], s=sid, t=t, v=v}))
  end
end
redis.call('DEL', KEYS[2])
return #all / 2
`)

// snapshotScript reads a room. KEYS: members, talker, ver.
// Returns {ver, talker, members as a flat list}.
var snapshotScript = redis.NewScript(`
return {tonumber(redis.call('GET', KEYS[3]) or '0'), redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[1])}
`)

// heartbeatScript renews a node's liveness key and reports whether the
// node is still registered. KEYS: liveness key, nodes. ARGV: TTL in ms,
// node id. Returns 1 or 0.
var heartbeatScript = redis.NewScript(`
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return redis.call('SISMEMBER', KEYS[2], ARGV[2])
`)
