python3 -c '
import ctypes, ctypes.util, os
libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
print(libc.getpid() == os.getpid())
class TS(ctypes.Structure): _fields_ = [("s", ctypes.c_long), ("ns", ctypes.c_long)]
ts = TS(); print(libc.clock_gettime(1, ctypes.byref(ts)), ts.s > 0)
buf = ctypes.create_string_buffer(64); libc.snprintf(buf, 64, b"%d-%s", 42, b"x"); print(buf.value)
print(libc.syscall(39) == os.getpid())
print(libc.open(b"/nonexistent", 0), ctypes.get_errno() == 2)
qs = (ctypes.c_int * 5)(5, 3, 9, 1, 7)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
libc.qsort(qs, 5, 4, CMP(lambda a, b: a[0] - b[0])); print(list(qs))
'
