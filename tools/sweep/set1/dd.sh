dd if=/dev/zero bs=1M count=64 status=none | sha256sum
