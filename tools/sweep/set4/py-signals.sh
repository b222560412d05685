python3 -c '
import signal, os, threading, time, socket
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append("usr1"))
signal.pthread_kill(threading.main_thread().ident, signal.SIGUSR1); print(got)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
os.kill(os.getpid(), signal.SIGUSR2); print("pending", signal.SIGUSR2 in signal.sigpending())
print("sigwait", signal.sigwait({signal.SIGUSR2}) == signal.SIGUSR2)
a, b = socket.socketpair(); a.setblocking(False); signal.set_wakeup_fd(a.fileno())
signal.signal(signal.SIGALRM, lambda s, f: None); signal.setitimer(signal.ITIMER_REAL, 0.1); time.sleep(0.3)
print("wakeup", b.recv(10) != b"")
signal.setitimer(signal.ITIMER_PROF, 0.05); signal.signal(signal.SIGPROF, lambda s, f: got.append("prof"))
t = time.process_time()
while "prof" not in got: pass
print("prof after cpu", time.process_time() - t >= 0.04)
print(signal.strsignal(signal.SIGTERM), signal.valid_signals() >= {signal.SIGKILL})
r = os.fork()
if r == 0: signal.signal(signal.SIGTERM, signal.SIG_DFL); time.sleep(10); os._exit(0)
time.sleep(0.2); os.kill(r, signal.SIGTERM); print("child", os.waitpid(r, 0)[1])
'
