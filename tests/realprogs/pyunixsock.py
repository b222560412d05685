# An AF_UNIX socket bound at a path in the working directory (a read-write
# bind mount in the sandbox), as gpg-agent, ssh-agent and test servers
# make them: the node is a socket, a forked client connects by the path,
# a second bind of the name is EADDRINUSE, and unlink removes it.
import errno
import os
import socket
import stat

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("agent.sock")
s.listen()
print("a socket node:", stat.S_ISSOCK(os.stat("agent.sock").st_mode))
pid = os.fork()
if pid == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect("agent.sock")
    c.sendall(b"ping")
    print("child got:", c.recv(16).decode(), flush=True)
    os._exit(0)
conn, _ = s.accept()
conn.sendall(conn.recv(16).upper())
_, status = os.waitpid(pid, 0)
print("child status:", status)
t = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    t.bind("agent.sock")
except OSError as e:
    print("second bind:", errno.errorcode[e.errno])
os.unlink("agent.sock")
print("after unlink:", os.path.exists("agent.sock"))
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    u.connect("agent.sock")
except OSError as e:
    print("connect after unlink:", errno.errorcode[e.errno])
