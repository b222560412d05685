# OpenSSH: a host key and a user key made here, sshd in the foreground on
# 127.0.0.1:12222 (privilege separation, a pty for one session), then ssh
# commands, a pty session, scp both ways, sftp in batch and a port forward.
mkdir -p /run/sshd && chmod 755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$PWD/hostkey" && echo hostkey ok
ssh-keygen -q -t ed25519 -N '' -f "$PWD/userkey" && echo userkey ok
cp userkey.pub authorized_keys && chmod 600 authorized_keys
cat >sshd_config <<C
Port 12222
ListenAddress 127.0.0.1
HostKey $PWD/hostkey
AuthorizedKeysFile $PWD/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile $PWD/sshd.pid
Subsystem sftp internal-sftp
AllowTcpForwarding yes
C
/usr/sbin/sshd -t -f "$PWD/sshd_config" && echo config ok
/usr/sbin/sshd -D -e -f "$PWD/sshd_config" 2>sshd.log &
d=$!
s() { ssh -F /dev/null -i "$PWD/userkey" -p 12222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes root@127.0.0.1 "$@"; }
for _ in $(seq 300); do s true 2>/dev/null && break; sleep 0.2; done
s 'echo hello from $(whoami); echo $SSH_CONNECTION | cut -d" " -f1,4'
s 'exit 3'; echo "remote exit $?"
seq 50000 | s 'sort -rn | head -3'
s -tt 'tty >/dev/null && echo got a tty; stty size >/dev/null && echo stty ok' </dev/null | tr -d '\r' | grep -v '^pyenv:'
head -c 300000 /dev/urandom >blob
scp -q -F /dev/null -i "$PWD/userkey" -P 12222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR blob root@127.0.0.1:"$PWD/blob.up"
cmp blob blob.up && echo scp up same
scp -q -F /dev/null -i "$PWD/userkey" -P 12222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@127.0.0.1:"$PWD/blob.up" blob.down
cmp blob blob.down && echo scp down same
printf 'cd %s\nput blob blob.sftp\nls -1 blob.sftp\nrm blob.up\nbye\n' "$PWD" |
	sftp -q -F /dev/null -i "$PWD/userkey" -P 12222 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -b - root@127.0.0.1 | grep -v '^sftp>'
cmp blob blob.sftp && echo sftp same
python3 -m http.server 18090 --bind 127.0.0.1 >/dev/null 2>&1 &
h=$!
s -N -L 127.0.0.1:18091:127.0.0.1:18090 &
f=$!
for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:18091/ && break; sleep 0.2; done
curl -s http://127.0.0.1:18091/blob | cmp - blob && echo forwarded same
kill $f $h; wait $f $h 2>/dev/null
kill "$d"; wait "$d" 2>/dev/null
grep -c 'Accepted publickey' sshd.log | awk '{print ($1 >= 6) ? "logins logged" : "few logins " $1}'
echo done
