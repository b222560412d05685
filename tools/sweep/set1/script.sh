script -qc 'tty >/dev/null && echo tty' /dev/null | tr -d '\r'
