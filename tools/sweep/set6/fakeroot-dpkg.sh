# fakeroot (LD_PRELOAD and its faked daemon over SysV IPC) building a
# .deb with dpkg-deb: owners and device nodes faked, the package listed
# and unpacked; then a real dpkg install into an --root, and removal.
mkdir -p pkg/DEBIAN pkg/usr/bin pkg/etc/demo
cat >pkg/DEBIAN/control <<C
Package: rb-demo
Version: 1.2-3
Architecture: all
Maintainer: nobody <nobody@example.org>
Description: demo package
C
printf '#!/bin/sh\necho demo ran\n' >pkg/usr/bin/rb-demo; chmod 755 pkg/usr/bin/rb-demo
echo conf=1 >pkg/etc/demo/demo.conf
fakeroot sh -c 'chown -R 0:0 pkg; chown 1234:5678 pkg/etc/demo/demo.conf; mknod pkg/etc/demo/null c 1 3; ls -ln pkg/etc/demo | awk "{print \$1, \$3, \$4, \$NF}"; dpkg-deb --root-owner-group -Zgzip --build pkg demo.deb >/dev/null' && echo built
ls -ln pkg/etc/demo | awk '{print $1, $NF}'
dpkg-deb -f demo.deb Package Version
dpkg-deb -c demo.deb | awk '{print $1, $2, $NF}'
# The install goes into a host bind mount in the sandbox, where device
# nodes cannot be made (nodev): a second package without the node.
rm pkg/etc/demo/null
dpkg-deb --root-owner-group -Zgzip --build pkg demo.deb >/dev/null
mkdir -p root/var/lib/dpkg/info root/var/lib/dpkg/updates && touch root/var/lib/dpkg/status
dpkg --root="$PWD/root" --force-not-root --force-bad-path --log=/dev/null -i demo.deb >/dev/null 2>&1 && echo installed
dpkg --root="$PWD/root" -l rb-demo 2>/dev/null | tail -1 | awk '{print $1, $2, $3}'
"$PWD/root/usr/bin/rb-demo"
dpkg --root="$PWD/root" --force-not-root --force-bad-path --log=/dev/null -r rb-demo >/dev/null 2>&1 && echo removed
ls root/usr/bin | wc -l
echo done
