grep -rl 'pthread_create' /usr/include | sort | md5sum; grep -rc 'define' /usr/include/linux 2>/dev/null | awk -F: '{s+=$2} END {print s}'
