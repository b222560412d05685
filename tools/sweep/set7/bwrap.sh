# bubblewrap, as flatpak and build tools use it: a read-only bind of /,
# its own /dev, /proc and /tmp, new PID, IPC and UTS namespaces, a bind
# of the working directory, and --die-with-parent.
echo host-side >marker
bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --bind "$PWD" /work \
	--unshare-pid --unshare-ipc --unshare-uts --hostname inner --die-with-parent --chdir /work \
	sh -c 'hostname; echo "pid $$"; ls /tmp | wc -l; cat marker; echo inside >made; ls /dev | grep -cx null; ps -e --no-headers | wc -l; touch /usr/x 2>&1 | grep -c "Read-only"'
echo "bwrap exit $?"
cat made
