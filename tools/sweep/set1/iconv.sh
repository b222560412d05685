printf 'caf\xc3\xa9\n' | iconv -f utf-8 -t latin1 | od -An -tx1; locale -a | grep -c .
