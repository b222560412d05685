# expect drives interactive programs on a pty: a bash script with read
# prompts (one with echo off, as password prompts do), a python REPL, a
# timeout on a prompt that never comes, and the child's exit status.
cat >ask.sh <<'S'
#!/bin/bash
read -r -p "Name? " name
read -r -s -p "Password? " pw; echo
read -r -p "Continue [y/n]? " yn
[ "$yn" = y ] || exit 4
echo "hello $name, your password has ${#pw} characters"
[ -t 0 ] && echo "stdin is a tty"
stty size >/dev/null 2>&1 && echo "stty works"
exit 7
S
chmod +x ask.sh
expect -f - <<'E'
log_user 0
set timeout 60
spawn ./ask.sh
expect "Name? " { send "Ada\r" }
expect "Password? " { send "s3cret!\r" }
expect -re {Continue \[y/n\]\? } { send "y\r" }
expect -re {hello ([^,]*), your password has (\d+) characters} {
	puts "name=$expect_out(1,string) len=$expect_out(2,string)"
}
expect "stdin is a tty" { puts "tty: yes" }
expect "stty works" { puts "stty: yes" }
expect eof
lassign [wait] pid spawnid oserr status
puts "exit status $status"

spawn ./ask.sh
expect "Name? " { send "Bob\r" }
expect "Password? " { send "x\r" }
expect "Continue" { send "n\r" }
expect eof
puts "second exit [lindex [wait] 3]"

spawn python3 -q -i
expect ">>> " { send "import os; print(sum(range(101)), os.isatty(0))\r" }
expect -re {(\d+) (True|False)} { puts "python: $expect_out(1,string) $expect_out(2,string)" }
expect ">>> " { send "\004" }
expect eof
puts "python exit [lindex [wait] 3]"

set timeout 2
spawn sleep 30
expect {
	"never" { puts "unexpected" }
	timeout { puts "timed out as expected" }
}
close
wait
puts "done"
E
echo "expect status $?"
