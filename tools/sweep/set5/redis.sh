# redis-server on 127.0.0.1:16379 and a unix socket: SET/GET/INCR, lists
# and hashes, a pipeline of 1000 commands, MULTI/EXEC, BGSAVE (a fork),
# then SHUTDOWN with a save; the dump loads back into a second server.
start() {
	redis-server --bind 127.0.0.1 --port 16379 --unixsocket "$PWD/r.sock" --dir "$PWD" \
		--save '' --appendonly no --daemonize no --logfile "$PWD/redis.log" &
	for _ in $(seq 600); do redis-cli -s r.sock ping 2>/dev/null | grep -q PONG && return; sleep 0.1; done
	echo "no server"
}
start
rc() { redis-cli -h 127.0.0.1 -p 16379 "$@"; }
rc set greeting hello
rc get greeting
rc incr counter; rc incrby counter 41
redis-cli -s r.sock get counter
rc rpush l a b c d >/dev/null; rc lrange l 0 -1 | tr '\n' ' '; echo
rc hset h f1 v1 f2 v2; rc hgetall h | sort | tr '\n' ' '; echo
for i in $(seq 1000); do printf 'SET key:%d %d\r\n' "$i" "$((i * i))"; done | rc --pipe | tail -1
rc dbsize
rc get key:777
printf 'MULTI\nINCR counter\nINCR counter\nEXEC\n' | rc
rc expire greeting 1000 ; rc ttl greeting | awk '{print ($1 > 900)}'
rc bgsave
for _ in $(seq 600); do rc info persistence | grep -q 'rdb_bgsave_in_progress:0' && break; sleep 0.1; done
rc info persistence | grep -E '^rdb_(last_bgsave_status|changes_since_last_save):' | tr -d '\r'
test -s dump.rdb && echo dump written
rc set after bgsave >/dev/null
rc shutdown save 2>&1
wait
start
rc dbsize
rc get after
rc get key:1000
redis-cli -s r.sock shutdown nosave 2>&1
wait
echo status $?
