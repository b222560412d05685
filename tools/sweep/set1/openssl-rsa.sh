openssl genrsa -out k.pem 1024 2>/dev/null && openssl rsa -in k.pem -check -noout
