sleep 5 < /dev/null & p=$!; sleep 0.3; exec 3> lockf; fuser lockf 2>/dev/null | wc -w; kill $p; lsns -t pid -n -o TYPE | head -1
