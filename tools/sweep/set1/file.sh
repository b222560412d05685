file -b /bin/ls | cut -d, -f1-2; file -b --mime-type /etc/passwd
