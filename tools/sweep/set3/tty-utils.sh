script -qc 'stty -a | head -1 | cut -d";" -f1; tput cols; tput lines' /dev/null | tr -d '\r'
