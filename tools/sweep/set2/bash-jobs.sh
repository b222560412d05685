set -m; sleep 0.3 & sleep 0.2 & jobs | wc -l; wait; (exit 3) & wait $!; echo "bg status $?"; trap 'echo trapped' USR1; kill -USR1 $$; echo after
