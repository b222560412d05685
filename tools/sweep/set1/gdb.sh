gdb -batch -nx -ex run -ex 'info inferiors' --args /bin/true 2>&1 | grep -c 'exited normally'
