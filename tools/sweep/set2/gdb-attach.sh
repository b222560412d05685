sleep 30 & pid=$!; sleep 0.5; gdb -batch -nx -p $pid -ex 'info inferiors' -ex detach 2>/dev/null | grep -c 'process'; kill $pid; wait $pid; echo "status $?"
