seq 1 200000 | shuf --random-source=/etc/passwd > n; sort -n -S 1M --parallel=2 -T . n | md5sum
xargs-P|seq 1 20 | xargs -P2 -n1 sh -c 'echo $(($0*2))' | sort -n | md5sum
