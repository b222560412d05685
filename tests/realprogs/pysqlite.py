# SQLite in WAL mode in the working directory (a read-write bind mount in
# the sandbox): its WAL index, db-shm, is a MAP_SHARED mapping of a host
# file, which a second process maps too while the first holds the
# database open.
import os
import sqlite3
import subprocess
import sys

c = sqlite3.connect("db")
print(c.execute("pragma journal_mode=wal").fetchone()[0])
c.execute("create table t(x)")
c.executemany("insert into t values(?)", [(i,) for i in range(100)])
c.commit()
reader = "import sqlite3; print(sqlite3.connect('db').execute('select count(*), sum(x) from t').fetchone())"
r = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True)
print("reader:", r.stdout.strip(), r.stderr.strip(), r.returncode)
c.execute("insert into t values(1000)")
c.commit()
print(c.execute("select count(*), sum(x) from t").fetchone())
print(sorted(f for f in os.listdir(".") if f.startswith("db")))
c.close()
print(sorted(f for f in os.listdir(".") if f.startswith("db")))
r = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True)
print("after close:", r.stdout.strip(), r.returncode)
