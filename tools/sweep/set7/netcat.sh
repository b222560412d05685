# netcat (OpenBSD's): a TCP listener receiving a file, a unix-socket
# listener, -z port probes, UDP, and a request to a local HTTP server.
head -c 200000 /dev/urandom >blob
nc -l 127.0.0.1 18501 >got &
l=$!
for _ in $(seq 100); do nc -z 127.0.0.1 18501 2>/dev/null && break; sleep 0.1; done
wait $l 2>/dev/null
nc -l 127.0.0.1 18501 >got &
l=$!
sleep 0.5
nc -N 127.0.0.1 18501 <blob
wait $l
cmp blob got && echo tcp transfer same
nc -lU "$PWD/u.sock" >ugot &
u=$!
for _ in $(seq 100); do [ -S u.sock ] && break; sleep 0.1; done
echo "over unix" | nc -NU "$PWD/u.sock"
wait $u
cat ugot
nc -z 127.0.0.1 18599; echo "probe closed port $?"
nc -lu 127.0.0.1 18502 >udp &
p=$!
sleep 0.5
echo "datagram" | nc -u -w1 127.0.0.1 18502
sleep 0.5
kill $p 2>/dev/null; wait $p 2>/dev/null
cat udp
mkdir www && echo "served" >www/index.html
(cd www && exec python3 -m http.server 18503 --bind 127.0.0.1 >/dev/null 2>&1) &
h=$!
for _ in $(seq 100); do nc -z 127.0.0.1 18503 2>/dev/null && break; sleep 0.1; done
printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 5 127.0.0.1 18503 | tail -1
kill $h; wait $h 2>/dev/null
echo done
