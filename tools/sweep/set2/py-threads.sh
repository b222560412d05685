python3 -c '
import threading, queue
q = queue.Queue(); out = []
def w():
    while True:
        i = q.get()
        if i is None: break
        out.append(i*i)
ts = [threading.Thread(target=w) for _ in range(200)]
[t.start() for t in ts]
for i in range(10000): q.put(i)
for _ in ts: q.put(None)
[t.join() for t in ts]
print(len(out), sum(out))'
