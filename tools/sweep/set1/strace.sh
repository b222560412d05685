strace -f -o /dev/null sh -c 'ls /etc | wc -l' 
