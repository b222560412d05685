python3 -c '
import os, mmap, tempfile, signal, resource, select, fcntl, pty, subprocess
fd, p = tempfile.mkstemp(); os.write(fd, b"x"*8192)
m = mmap.mmap(fd, 8192); m[0:1] = b"y"; m.flush(); print(open(p,"rb").read(1))
r, w = os.pipe(); fcntl.fcntl(r, fcntl.F_SETFL, os.O_NONBLOCK); ep = select.epoll(); ep.register(r, select.EPOLLIN); os.write(w, b"z"); print(ep.poll(1))
print(resource.getrlimit(resource.RLIMIT_NOFILE)[0] > 0)
pid, master = pty.fork()
if pid == 0:
    print("child on tty", os.isatty(0)); os._exit(0)
data = b""
while True:
    try: c = os.read(master, 100)
    except OSError: break
    if not c: break
    data += c
os.waitpid(pid, 0); print(data.strip())
signal.signal(signal.SIGALRM, lambda *a: print("alarm")); signal.setitimer(signal.ITIMER_REAL, 0.05); signal.pause()
print(subprocess.run(["sh","-c","echo $0","arg0"], capture_output=True, text=True).stdout.strip())
print(len(os.sched_getaffinity(0)) > 0, os.cpu_count() > 0)'
