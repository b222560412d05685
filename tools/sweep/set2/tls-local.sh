openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=localhost 2>/dev/null
openssl s_server -quiet -accept 127.0.0.1:8443 -cert c.pem -key k.pem -www >/dev/null 2>&1 & s=$!
for i in $(seq 50); do curl -sk https://127.0.0.1:8443/ -o out 2>/dev/null && break; sleep 0.2; done
grep -c 'Ciphers' out; kill $s
