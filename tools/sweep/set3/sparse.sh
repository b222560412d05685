truncate -s 200M s; printf hello | dd of=s bs=1 seek=100000000 conv=notrunc status=none; cp --sparse=always s t && cmp s t && echo same; python3 -c '
import os
f = os.open("s", os.O_RDONLY)
print(os.lseek(f, 0, os.SEEK_DATA) <= 100000000, os.lseek(f, 100000000, os.SEEK_HOLE) > 100000000)'; fallocate -l 1M fa && stat -c %s fa; fallocate -p -o 0 -l 4096 fa && stat -c %s fa; cp --reflink=auto s r && cmp s r && echo reflink-auto-ok
