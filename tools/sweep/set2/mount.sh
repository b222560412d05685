mkdir m; mount -t tmpfs none m 2>/dev/null; echo "status $?"
