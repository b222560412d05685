seq 100000 > n.txt; split -l 30000 n.txt part.; ls part.* | wc -l; cat part.* | sha256sum | cut -c1-16; sha256sum n.txt | cut -c1-16
dd if=/dev/zero of=sp bs=1M count=0 seek=64 2>/dev/null; du -k sp | cut -f1; stat -c '%s' sp
zip -q -r z.zip part.* && unzip -l z.zip | tail -1 | awk '{print $2}'
mkfifo ff; (echo through fifo > ff &); cat ff
timeout -s KILL 0.5 sleep 5; echo "timeout $?"
nohup sh -c 'echo nohup' > nh.out 2>/dev/null; cat nh.out
setsid sh -c 'ps -o sid= -p $$ | tr -d " " > sid; echo $$ > pid'; [ "$(cat sid)" = "$(cat pid)" ] && echo "setsid ok"
nice -n 5 nice; taskset -c 0 sh -c 'taskset -p $$ | sed "s/.*: //"'
flock -w 1 lk -c 'echo locked'
printf '%s\n' b a c | xargs -P3 -n1 echo | sort | tr '\n' ' '; echo
find . -maxdepth 1 -name 'part.*' -newer n.txt -o -name 'part.*' -print | wc -l
date -u -d @86400 +%F; TZ=Asia/Tokyo date -d '2020-01-01 00:00 UTC' +%H
