busybox sh -c 'seq 1 20 | busybox awk "{s+=\$1} END {print s}"; busybox find /etc -maxdepth 1 -name "host*" | sort'
