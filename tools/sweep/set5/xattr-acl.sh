# Extended attributes (trusted.*, and user.* in the working directory)
# and POSIX ACLs with setfattr, getfattr, setfacl and getfacl, on files
# in the working directory, in /tmp and in /dev/shm: set, list, dump,
# remove, an ACL that lets nobody read a 0600 file, a default ACL that
# new files inherit, and cp -a and tar --xattrs --acls carrying them.
# (user.* on tmpfs is left out: Linux has it from 6.6 only, and the
# lane's kernel is 6.1.)
try() { # CMD...: ok, or the error's last part
	local out
	if out=$("$@" 2>&1); then echo "ok: ${1##*/} $2 $3"; else echo "err: ${1##*/} $2 $3: ${out##*: }"; fi
}
t=$(mktemp -d /tmp/xa.XXXXXX) s=$(mktemp -d /dev/shm/xa.XXXXXX)
chmod 755 "$t" "$s"
wd=$PWD
for where in "$wd" "$t" "$s"; do
	case $where in "$wd") echo "== working dir" ;; /tmp/*) echo "== /tmp" ;; *) echo "== /dev/shm" ;; esac
	cd "$where" || exit 1
	echo data >f && chmod 600 f && mkdir -p dir
	u=trusted
	if [ "$where" = "$wd" ]; then
		u=user
		try setfattr -n user.on-dir -v yes dir
	fi
	try setfattr -n $u.color -v blue f
	try setfattr -n $u.size -v 0x0102ff f
	try setfattr -n trusted.note -v hidden f
	getfattr -d -m - --absolute-names f 2>&1 | grep -v '^# file' | grep -v '^$'
	try getfattr -n $u.color --only-values f
	try setfattr -x $u.color f
	getfattr -d -m - f 2>&1 | grep -c color
	try setfacl -m u:nobody:r f
	getfacl -cp f 2>&1
	ls -l f | cut -c1-11
	setpriv --reuid=65534 --regid=65534 --clear-groups cat f 2>&1 | sed 's/.*: //'
	try setfacl -d -m u::rwx,g::r-x,o::---,u:nobody:rwx dir
	touch dir/inherited
	getfacl -cp dir/inherited 2>&1
	stat -c '%A' dir/inherited
	try cp -a f f.copy
	getfattr -d -m - f.copy 2>&1 | grep -v '^# file' | grep -v '^$'
	getfacl -cp f.copy 2>&1 | grep -c nobody
	try setfacl -b f
	ls -l f | cut -c1-11
	try tar --xattrs --xattrs-include='*' --acls -cf x.tar f.copy dir
	mkdir -p un && try tar --xattrs --xattrs-include='*' --acls -xf x.tar -C un
	getfacl -cp un/dir 2>&1 | grep -c default
	cd /
done
rm -rf "$t" "$s"
