# inotifywait in the background (monitor mode, recursive) while files
# are created, written, renamed, chmod'ed and deleted, and a new subdir
# gets its own watch; then a one-shot wait that a later write ends.
mkdir -p d/sub
inotifywait -m -r -e create,modify,close_write,moved_from,moved_to,delete,attrib,delete_self \
	--format '%e %w%f' d >events.txt 2>watch.err &
w=$!
for _ in $(seq 600); do grep -q 'Watches established' watch.err && break; sleep 0.1; done
echo one >d/a.txt
echo two >>d/a.txt
mv d/a.txt d/b.txt
chmod 600 d/b.txt
mkdir d/new
for _ in $(seq 600); do grep -q 'CREATE,ISDIR d/new' events.txt && break; sleep 0.1; done
sleep 1
echo inner >d/new/x.txt
mv d/b.txt d/sub/c.txt
rm d/sub/c.txt
rm d/new/x.txt
rmdir d/new
sleep 2
kill "$w"; wait "$w" 2>/dev/null
cat events.txt
(inotifywait -q -t 60 -e close_write --format '%e %f' d; echo "status $?") >once.txt &
o=$!
for _ in $(seq 100); do sleep 0.3; echo hi >d/trigger.txt; grep -q status once.txt && break; done
wait "$o"; cat once.txt
inotifywait -q -t 1 -e delete d; echo "timeout status $?"
