python3 -c '
import subprocess, os, signal, time
r, w = os.pipe()
p = subprocess.run(["sh", "-c", "echo via-fd >&%d" % w], pass_fds=(w,)); os.close(w); print(os.read(r, 100).decode().strip(), p.returncode)
p = subprocess.Popen(["sleep", "30"], start_new_session=True); print("own session", os.getsid(p.pid) == p.pid)
os.killpg(p.pid, signal.SIGTERM); print("killed", p.wait())
p = subprocess.run(["sh", "-c", "exit 3"]); print("status", p.returncode)
p = subprocess.run("echo $((6*7)) | tr 4 X", shell=True, capture_output=True, text=True); print(p.stdout.strip())
p = subprocess.run(["cat"], input=b"x"*200000, capture_output=True); print("big", len(p.stdout))
try: subprocess.run(["sleep", "5"], timeout=0.5)
except subprocess.TimeoutExpired: print("timeout")
p = subprocess.Popen(["sh", "-c", "kill -STOP $$; echo resumed"], stdout=subprocess.PIPE)
time.sleep(0.3); pid, st = os.waitpid(p.pid, os.WUNTRACED); print("stopped", os.WIFSTOPPED(st))
os.kill(p.pid, signal.SIGCONT); print(p.communicate()[0].decode().strip(), p.returncode)
print(subprocess.check_output(["env", "-i", "A=1", "env"]).decode().strip())
'
