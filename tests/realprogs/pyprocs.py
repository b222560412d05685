"""Python's process and thread machinery, for tests/e2e: threading with a
lock, a condition and a queue; subprocess.run with pipes, a shell pipeline,
a timeout and a failing child; a multiprocessing.Pool (fork, pipes,
semaphores in /dev/shm) and a multiprocessing.Process with a Queue; os.fork
with os.waitpid. Output does not depend on scheduling."""

import multiprocessing as mp
import os
import queue
import subprocess
import sys
import threading


def square(x):
    return x * x


def child(q, n):
    q.put(sum(range(n)))


def threads():
    lock = threading.Lock()
    total = [0]
    q = queue.Queue()

    def work(i):
        for _ in range(1000):
            with lock:
                total[0] += 1
        q.put(i)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    got = sorted(q.get() for _ in range(8))
    print("threads:", total[0], got)

    cond = threading.Condition()
    ready = []

    def waiter():
        with cond:
            cond.wait_for(lambda: ready)
            ready.append("woken")

    w = threading.Thread(target=waiter)
    w.start()
    with cond:
        ready.append("go")
        cond.notify_all()
    w.join()
    print("condition:", ready)
    print("thread count after join:", threading.active_count())


def subprocesses():
    r = subprocess.run(["echo", "hello", "from", "echo"], capture_output=True, text=True)
    print("run:", r.returncode, r.stdout.strip())
    r = subprocess.run("seq 100 | sort -rn | head -3", shell=True, capture_output=True, text=True)
    print("shell pipeline:", r.stdout.split())
    r = subprocess.run(["sh", "-c", "echo err >&2; exit 5"], capture_output=True, text=True)
    print("failing child:", r.returncode, r.stderr.strip())
    r = subprocess.run(["cat"], input="fed through stdin\n", capture_output=True, text=True)
    print("stdin:", r.stdout.strip())
    try:
        subprocess.run(["sleep", "10"], timeout=0.5)
    except subprocess.TimeoutExpired:
        print("timeout: expired")
    p = subprocess.Popen(["sleep", "10"])
    p.terminate()
    print("terminated:", p.wait())
    print("check_output:", subprocess.check_output(["sh", "-c", "echo $((6*7))"]).decode().strip())


def processes():
    with mp.Pool(2) as pool:
        print("pool map:", pool.map(square, range(10)))
        print("pool apply:", pool.apply(square, (12,)))
    q = mp.Queue()
    p = mp.Process(target=child, args=(q, 1000))
    p.start()
    print("process queue:", q.get())
    p.join()
    print("process exitcode:", p.exitcode)
    pid = os.fork()
    if pid == 0:
        os._exit(9)
    _, st = os.waitpid(pid, 0)
    print("fork status:", os.waitstatus_to_exitcode(st))


if __name__ == "__main__":
    threads()
    subprocesses()
    processes()
    sys.stdout.flush()
