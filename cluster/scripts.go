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
// talker's socket id), room:<name>:ver (the version; the three are
// deleted when the room empties) and version (the cluster-wide counter
// rooms take their versions from).

// luaRoom holds what the scripts that change rooms share. A room's
// version comes from the cluster-wide counter <prefix>version, so that a
// room whose keys were deleted once it emptied never goes back to an
// older version when it is used again; each event carries the room's
// previous version too (p), so that a node can tell it missed one.
//
// bump(G, ver) gives the room whose version key is ver its next version,
// and returns it and the room's previous one (0 for a new room).
// drop(G, r, sid, node) takes sid out of the room whose keys start with r
// (also its channel), frees its talker role, publishes the departure, and
// deletes the room's keys if it emptied; it returns false if sid was not
// a member.
const luaRoom = `
local function bump(G, ver)
  local p = tonumber(redis.call('GET', ver) or '0')
  local v = redis.call('INCR', G)
  redis.call('SET', ver, v)
  return p, v
end
local function drop(G, r, sid, node)
  if redis.call('HDEL', r .. ':members', sid) == 0 then return false end
  local t = false
  if redis.call('GET', r .. ':talker') == sid then redis.call('DEL', r .. ':talker'); t = true end
  local p, v = bump(G, r .. ':ver')
  if redis.call('EXISTS', r .. ':members') == 0 then redis.call('DEL', r .. ':ver', r .. ':talker') end
  redis.call('PUBLISH', r, cjson.encode({k='l', n=node, s=sid, t=t, v=v, p=p}))
  return true
end
`

// joinScript adds a member, or changes its role. A member of another room
// on the same node leaves that room in the same step, so that no socket
// is ever left behind in the room it switched from.
// KEYS: members, talker, ver, sockets, room channel.
// ARGV: socket id, node id, talker (1/0), room limit, force (1/0: ignore
// the limit), room name, key prefix.
// Returns {"full"}, {"taken"} or {"ok", ver, talker, members as a flat
// list of socket id, node id}.
var joinScript = redis.NewScript(luaRoom + `
local sid, node, want, limit, force, room, prefix = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6], ARGV[7]
local G = prefix .. 'version'
local present = redis.call('HGET', KEYS[1], sid)
if not present and not force and redis.call('HLEN', KEYS[1]) >= limit then
  return {'full'}
end
local cur = redis.call('GET', KEYS[2])
if want and cur and cur ~= sid then
  return {'taken'}
end
local was = redis.call('HGET', KEYS[4], sid)
if was and was ~= room then drop(G, prefix .. 'room:' .. was, sid, node) end
local v = tonumber(redis.call('GET', KEYS[3]) or '0')
local changed = present ~= node or (want and cur ~= sid) or (not want and cur == sid)
if changed then
  local p
  if not want and cur == sid then
    redis.call('DEL', KEYS[2])
    p, v = bump(G, KEYS[3])
    redis.call('PUBLISH', KEYS[5], cjson.encode({k='l', n=node, s=sid, t=true, v=v, p=p}))
  end
  redis.call('HSET', KEYS[1], sid, node)
  if want then redis.call('SET', KEYS[2], sid) end
  p, v = bump(G, KEYS[3])
  redis.call('PUBLISH', KEYS[5], cjson.encode({k='j', n=node, s=sid, t=want, v=v, p=p}))
end
redis.call('HSET', KEYS[4], sid, room)
return {'ok', v, redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[1])}
`)

// claimScript makes a member the talker of a room that has none.
// KEYS: members, talker, ver, room channel. ARGV: socket id, node id, key
// prefix. Returns "ok", "taken" or "absent" (not a member).
var claimScript = redis.NewScript(luaRoom + `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'absent' end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX') then return 'taken' end
local p, v = bump(ARGV[3] .. 'version', KEYS[3])
redis.call('PUBLISH', KEYS[4], cjson.encode({k='t', n=ARGV[2], s=ARGV[1], t=true, v=v, p=p}))
return 'ok'
`)

// leaveScript removes a member.
// KEYS: members, talker, ver, sockets, room channel.
// ARGV: socket id, node id, room name, key prefix.
// Returns 1, or 0 if it was not a member.
var leaveScript = redis.NewScript(luaRoom + `
local sid = ARGV[1]
if redis.call('HGET', KEYS[4], sid) == ARGV[3] then redis.call('HDEL', KEYS[4], sid) end
if drop(ARGV[4] .. 'version', ARGV[4] .. 'room:' .. ARGV[3], sid, ARGV[2]) then return 1 end
return 0
`)

// reapScript removes a node and every member it had, publishing their
// departures. Only the first caller for a node does it.
// KEYS: nodes, the node's sockets. ARGV: node id, key prefix.
// Returns the number of sockets freed, or -1 if the node was already gone.
var reapScript = redis.NewScript(luaRoom + `
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return -1 end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  drop(ARGV[2] .. 'version', ARGV[2] .. 'room:' .. all[i + 1], all[i], ARGV[1])
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
