sh -c 'ulimit -t 1; while :; do :; done'; echo "status $?"
