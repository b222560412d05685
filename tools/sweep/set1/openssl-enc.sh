head -c 100000 /dev/urandom > d; openssl enc -aes-256-cbc -pbkdf2 -k pw -in d -out e && openssl enc -d -aes-256-cbc -pbkdf2 -k pw -in e | cmp - d && echo same
