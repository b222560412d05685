# util-linux and friends: flock serializing 20 concurrent increments,
# script(1) recording a command on a pty, setsid and nohup, taskset,
# column and hexdump (unshare's new namespaces: see bwrap).
echo 0 >count
for i in $(seq 20); do
	flock lock sh -c 'n=$(cat count); sleep 0.01; echo $((n + 1)) >count' &
done
wait
cat count
script -qec 'tty | grep -c pts; stty size | wc -w; exit 3' /dev/null | tr -d '\r'; echo "script exit ${PIPESTATUS[0]}"
setsid sh -c 'ps -o sid= -p $$ | tr -d " " >sid; echo $$ >pid'
[ "$(cat sid)" = "$(cat pid)" ] && echo setsid leads its session
nohup sh -c 'echo to nohup' >/dev/null 2>&1; cat nohup.out 2>/dev/null || echo "no nohup.out (stdout redirected)"
taskset -c 0 sh -c 'taskset -p $$' | sed 's/.*: //'
printf 'a b c\nlonger x y\n' | column -t
printf 'ringbox\n' | hexdump -C | head -1
echo done
