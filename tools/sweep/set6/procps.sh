# What people look at processes with: ps on a known tree, pgrep/pkill by
# name and pattern, pstree, top in batch mode, lsof of a process's files,
# ss of a listener, /proc/loadavg and free, fuser, kill -l and timeout.
sleep 123 &
s1=$!
bash -c 'exec -a rb-worker sleep 124' &
s2=$!
sleep 0.5
ps -o comm=,args= -p $s1,$s2
ps -o comm= --ppid $$ | sort | uniq -c
pgrep -s 0 -x sleep | wc -l
pgrep -s 0 -f 'sleep 12[34]' | wc -l
pgrep -f rb-worker >/dev/null && echo pgrep -f finds argv
pstree -c $$ | grep -o 'sleep' | wc -l
top -bn1 | head -5 | grep -cE '^(top|Tasks|%Cpu|MiB Mem|MiB Swap)'
exec 7>lsof.tmp
lsof -p $$ -a -d 7 -Fn | grep '^n' | sed "s|$PWD/||"
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",18400)); s.listen(); time.sleep(30)' &
l=$!
sleep 2
ss -ltnH 'sport = :18400' | awk '{print $1, $4}'
ss -ltnpH 'sport = :18400' | grep -c python3
fuser -n tcp 18400 2>/dev/null | wc -w
kill $l
awk '{print NF}' /proc/loadavg
free -m | awk 'NR==1{print $1, $2} NR==2 {print $1, ($2 > 0)}'
uptime | grep -c 'load average'
pkill -s 0 -x sleep; wait $s1 $s2 2>/dev/null; echo "killed $?"
kill -l 15 9; kill -l | wc -l
timeout 1 sleep 10; echo "timeout $?"
timeout -s KILL 1 sleep 10; echo "timeout kill $?"
echo done
