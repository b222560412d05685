# A bash script with what scripts use: functions, subshells, command
# substitution, traps (EXIT, a signal), background jobs and wait, process
# substitution, here-documents, pipelines, lastpipe and a coprocess. Run by
# tests/e2e (TestRealPrograms) natively and in the sandbox, in a scratch
# directory; its output must not depend on timing.
set -u
trap 'echo "got USR1"' USR1
f() { local x=$1; echo "f($x) in subshell $BASH_SUBSHELL"; }
a=$(f 1); echo "captured: $a"
b=$( (f 2; echo nested $(echo deep)) | tr a-z A-Z ); echo "$b"
( exit 7 ); echo "subshell status $?"
kill -USR1 $$
for i in 1 2 3; do (echo "job $i" > job$i.out; exit $i) & done
wait %1; echo "wait %1: $?"
wait; echo "all waited"; cat job1.out job2.out job3.out
sleep 0.1 & p=$!; wait $p; echo "wait pid: $?"
sleep 30 & k=$!; kill -TERM $k; wait $k; echo "killed job: $?"
# (Set only now: a job killed before it execs would run it.)
trap 'echo "exit trap, status $?"' EXIT
echo piped | cat /dev/stdin
arr=(x y z); echo "${#arr[@]} ${arr[*]}"
while read -r l; do echo "line: $l"; done < <(printf 'p\nq\n')
diff <(seq 3) <(seq 3) && echo "process substitution ok"
cat <<HERE | wc -l
one
two
HERE
count=0; seq 5 | while read n; do count=$((count+n)); done; echo "pipeline subshell count $count"
shopt -s lastpipe 2>/dev/null; set +m; count=0; seq 5 | while read n; do count=$((count+n)); done; echo "lastpipe count $count"
echo "$(ulimit -n) fds" > /dev/null
coproc C { read x; echo "coproc got $x"; }; echo hello >&"${C[1]}"; read -r y <&"${C[0]}"; echo "$y"; wait $C_PID
echo "jobs left: $(jobs -p | wc -l)"
exit 3
