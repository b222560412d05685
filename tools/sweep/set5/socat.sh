# socat: a forking echo server on a unix socket and on 127.0.0.1:18082
# (one child per connection, each running cat or tr), clients through
# socat, a socketpair-backed EXEC, a UDP round trip and a pty pair.
wait_for() { for _ in $(seq 600); do [ -e "$1" ] && return; sleep 0.1; done; echo "no $1"; }
socat UNIX-LISTEN:"$PWD/echo.sock",fork EXEC:cat &
s1=$!
socat TCP-LISTEN:18082,bind=127.0.0.1,reuseaddr,fork 'EXEC:tr a-z A-Z' &
s2=$!
wait_for echo.sock
for i in 1 2 3; do echo "unix client $i" | socat -t 5 - UNIX-CONNECT:"$PWD/echo.sock"; done
for _ in $(seq 600); do socat -u /dev/null TCP:127.0.0.1:18082 2>/dev/null && break; sleep 0.1; done
echo "tcp client" | socat -t 5 - TCP:127.0.0.1:18082
seq 100000 | socat -t 5 - TCP:127.0.0.1:18082 | md5sum
seq 20000 | socat -t 5 - UNIX-CONNECT:"$PWD/echo.sock" | wc -l
kill "$s1" "$s2"; wait "$s1" "$s2" 2>/dev/null
echo "servers stopped"
echo "via exec" | socat - 'EXEC:sed s/exec/socat-exec/,pipes'
echo "via socketpair" | socat - 'SYSTEM:rev'
socat -u UDP-RECV:18083,bind=127.0.0.1 OPEN:udp.out,creat,append &
u=$!
sleep 1
for _ in $(seq 100); do echo "datagram" | socat -u - UDP-SENDTO:127.0.0.1:18083; [ -s udp.out ] && break; sleep 0.2; done
head -1 udp.out
kill "$u"; wait "$u" 2>/dev/null
socat PTY,raw,echo=0,link="$PWD/pty1" PTY,raw,echo=0,link="$PWD/pty2" &
p=$!
wait_for pty1; wait_for pty2
test -c "$(readlink pty1)" && echo pty1 is a char device
timeout 20 head -c 21 pty2 >pty.out &
r=$!
sleep 1
# From a subshell: the sandbox's first process leads its session, and a
# session leader that opens a tty slave makes it its controlling terminal
# (then socat's exit hangs it up: SIGHUP).
(printf 'through the pty pair\n' >pty1)
wait "$r"; cat pty.out
kill "$p"; wait "$p" 2>/dev/null
echo done
