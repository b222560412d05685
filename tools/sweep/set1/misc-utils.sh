nice -n 5 nice; taskset -c 0 echo ok; prlimit --nofile=100 sh -c 'ulimit -n'; setsid sh -c 'echo sid'
