python3 -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 & for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8765/ && break; sleep 0.2; done; curl -s http://127.0.0.1:8765/ | grep -c '<li>' >/dev/null && echo served; kill %1

