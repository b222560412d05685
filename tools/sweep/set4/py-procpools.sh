cat > pools.py <<'PY'
import multiprocessing as mp, concurrent.futures as cf
from multiprocessing import shared_memory
def sq(x): return x*x
def fill(name):
    s = shared_memory.SharedMemory(name=name); s.buf[0:5] = b"hello"; s.close()
if __name__ == "__main__":
    for m in ("fork", "spawn", "forkserver"):
        ctx = mp.get_context(m)
        with ctx.Pool(2) as p: print(m, sum(p.map(sq, range(50))))
    with cf.ProcessPoolExecutor(2) as ex: print("ppe", sum(ex.map(sq, range(20))))
    with cf.ThreadPoolExecutor(4) as ex: print("tpe", sum(ex.map(sq, range(20))))
    s = shared_memory.SharedMemory(create=True, size=4096)
    p = mp.get_context("spawn").Process(target=fill, args=(s.name,)); p.start(); p.join()
    print("shm", bytes(s.buf[0:5]), p.exitcode); s.close(); s.unlink()
    q = mp.Queue(); pr = mp.Process(target=q.put, args=("queued",)); pr.start(); print(q.get()); pr.join()
PY
python3 pools.py
