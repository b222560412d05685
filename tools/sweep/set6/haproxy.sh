# haproxy with two threads balancing round-robin over two python
# http.server backends, with a health check; then a graceful reload by
# signal (-sf) while keeping the port, and a soft stop.
mkdir a b; echo backend-a >a/who; echo backend-b >b/who
(cd a && exec python3 -m http.server 18101 --bind 127.0.0.1 >/dev/null 2>&1) &
p1=$!
(cd b && exec python3 -m http.server 18102 --bind 127.0.0.1 >/dev/null 2>&1) &
p2=$!
cat >h.cfg <<C
global
    nbthread 2
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:18100
    default_backend be
backend be
    balance roundrobin
    option httpchk GET /who
    server a 127.0.0.1:18101 check inter 500
    server b 127.0.0.1:18102 check inter 500
C
haproxy -c -q -f h.cfg && echo config valid
haproxy -db -f h.cfg 2>h.log &
h=$!
for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:18100/who && break; sleep 0.2; done
sleep 2
for i in 1 2 3 4 5 6; do curl -s http://127.0.0.1:18100/who; done | sort | uniq -c
curl -s -o /dev/null -w '%{http_code}\n' http://127.0.0.1:18100/nothing
haproxy -db -f h.cfg -sf "$h" 2>h2.log &
h2=$!
wait $h; echo "old haproxy exited $?"
for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:18100/who && break; sleep 0.2; done
for i in 1 2; do curl -s http://127.0.0.1:18100/who; done | sort | uniq -c
kill -USR1 $h2; wait $h2; echo "new haproxy exited $?"
kill $p1 $p2; wait $p1 $p2 2>/dev/null
echo done
