(ulimit -v 200000; python3 -c 'x = bytearray(400*1024*1024)' 2>&1 | tail -1); (ulimit -s unlimited; sh -c 'ulimit -s'); (ulimit -n 64; python3 -c 'import os; fs=[]
try:
    while True: fs.append(os.open("/dev/null", 0))
except OSError as e: print(e.errno, len(fs) < 64)')
