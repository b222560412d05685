bash -c '
coproc BC { bc -l; }; echo "2^10" >&${BC[1]}; read -r ans <&${BC[0]}; echo "coproc $ans"; kill $BC_PID
diff <(seq 5) <(seq 5 | sort -n) && echo same
sleep 0.3 & a=$!; sleep 0.1 & b=$!; wait -n; echo "first done"; wait
trap "echo exit trap" EXIT
if read -t 0.2 x < <(sleep 1); then echo read; else echo "read timed out"; fi
cat <<< "here string"
ulimit -n 64; echo "nofile $(ulimit -n)"
mapfile -t arr < <(printf "%s\n" c b a); echo "${arr[@]}" "${#arr[@]}"
declare -A m=([k]=v); echo "${m[k]}"
printf -v s "%05d" 42; echo $s
set -o pipefail; false | true; echo "pipefail $?"
( exit 7 ); echo "sub $?"
echo $(( $(nproc) > 0 ))
'
