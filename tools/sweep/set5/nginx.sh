# nginx with its config, logs and temp dirs in the working directory:
# master and two workers (as nobody) on 127.0.0.1:18080, static files (a
# small one, a 2 MB one by sendfile, a 404, a HEAD, keep-alive), a reload
# by SIGHUP, then SIGQUIT.
mkdir -p html/sub tmp logs
echo "hello from nginx" >html/index.html
head -c 2000000 /dev/zero | tr '\0' 'x' >html/sub/big.txt
chmod -R a+rX html
cat >nginx.conf <<CONF
daemon off;
master_process on;
worker_processes 2;
user nobody nogroup;
pid $PWD/logs/nginx.pid;
error_log $PWD/logs/error.log notice;
events { worker_connections 64; }
http {
	access_log $PWD/logs/access.log;
	client_body_temp_path $PWD/tmp/body;
	proxy_temp_path $PWD/tmp/proxy;
	fastcgi_temp_path $PWD/tmp/fastcgi;
	uwsgi_temp_path $PWD/tmp/uwsgi;
	scgi_temp_path $PWD/tmp/scgi;
	sendfile on;
	server {
		listen 127.0.0.1:18080;
		root $PWD/html;
		location /echo { return 200 "echo \$request_method \$arg_x\n"; }
	}
}
CONF
nginx -t -p "$PWD" -c "$PWD/nginx.conf" -e "$PWD/logs/error.log" 2>&1 | grep -c successful
nginx -p "$PWD" -c "$PWD/nginx.conf" -e "$PWD/logs/error.log" &
for _ in $(seq 600); do [ -s logs/nginx.pid ] && break; sleep 0.1; done
master=$(cat logs/nginx.pid)
workers() { grep -l "^PPid:[[:space:]]*$master\$" /proc/[0-9]*/status 2>/dev/null | wc -l; }
for _ in $(seq 300); do [ "$(workers)" = 2 ] && break; sleep 0.2; done
echo "workers: $(workers)"
if [ "$(workers)" != 2 ]; then # no worker to answer: curl would wait for ever
	kill -KILL "$master"; wait; exit 1 # (and a master without workers ignores SIGQUIT)
fi
for _ in $(seq 60); do curl -s -m 10 -o /dev/null http://127.0.0.1:18080/ && break; sleep 0.5; done
curl -s -m 60 http://127.0.0.1:18080/
curl -s -m 60 http://127.0.0.1:18080/sub/big.txt | md5sum
curl -s -m 60 -o /dev/null -w '%{http_code} %{size_download}\n' http://127.0.0.1:18080/missing
curl -s -m 60 -I http://127.0.0.1:18080/index.html | grep -E '^(HTTP|Content-Length)' | tr -d '\r'
curl -s -m 60 'http://127.0.0.1:18080/echo?x=1' 'http://127.0.0.1:18080/echo?x=2' -d a=b
kill -HUP "$master"
sleep 2
for _ in $(seq 60); do curl -s -m 10 -o /dev/null http://127.0.0.1:18080/ && break; sleep 0.5; done
curl -s -m 60 -o /dev/null -w '%{http_code}\n' http://127.0.0.1:18080/index.html
kill -QUIT "$master"
wait
echo "exit $?"
grep -c 'GET /sub/big.txt' logs/access.log
test -e logs/nginx.pid || echo pid file removed
