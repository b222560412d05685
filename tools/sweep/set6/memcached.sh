# memcached with two worker threads as nobody on 127.0.0.1:11311 and a
# unix socket: set/get/incr/cas/expiry and 2000 keys from a python client.
memcached -u nobody -l 127.0.0.1 -p 11311 -U 0 -t 2 -m 16 &
m=$!
mkdir -m 1777 s
memcached -u nobody -s "$PWD/s/mc.sock" -a 0777 -t 2 -m 16 &
u=$!
python3 - "$PWD/s/mc.sock" <<'P'
import socket, sys, time
def conn(addr, fam):
    for _ in range(300):
        try:
            s = socket.socket(fam); s.connect(addr); return s
        except OSError:
            time.sleep(0.1)
    raise SystemExit("no server")
def talk(s, cmd, end=(b"END\r\n", b"STORED\r\n", b"DELETED\r\n", b"NOT_FOUND\r\n", b"EXISTS\r\n", b"OK\r\n")):
    s.sendall(cmd)
    buf = b""
    while True:
        buf += s.recv(65536)
        if any(buf.endswith(e) for e in end) or (buf.endswith(b"\r\n") and buf[:-2].isdigit()):
            return buf.decode()
for s in (conn(("127.0.0.1", 11311), socket.AF_INET), conn(sys.argv[1], socket.AF_UNIX)):
    print(talk(s, b"set a 5 0 5\r\nhello\r\n").strip())
    print(talk(s, b"get a\r\n").replace("\r\n", " "))
    talk(s, b"set n 0 0 2\r\n40\r\n")
    print(talk(s, b"incr n 2\r\n").strip())
    g = talk(s, b"gets a\r\n").split()
    cas = g[4]
    print(talk(s, b"cas a 0 0 3 %s\r\nbye\r\n" % cas.encode()).strip())
    print(talk(s, b"cas a 0 0 3 %s\r\nbye\r\n" % cas.encode()).strip())
    print(talk(s, b"set e 0 1 1\r\nx\r\n").strip())
    time.sleep(2.5)
    print("expired:", talk(s, b"get e\r\n").strip())
    for i in range(2000):
        s.sendall(b"set k%d 0 0 %d noreply\r\n%s\r\n" % (i, len(str(i * i)), str(i * i).encode()))
    r = talk(s, b"get k0 k999 k1999\r\n")
    print(r.replace("\r\n", " "))
    st = talk(s, b"stats\r\n")
    print("threads", [l.split()[2] for l in st.splitlines() if l.startswith("STAT threads ")])
    print(talk(s, b"delete a\r\n").strip(), talk(s, b"delete a\r\n").strip())
P
kill $m $u; wait $m $u
echo "status $?"
