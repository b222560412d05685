# rsync of a local tree (rsync forks its generator and receiver, joined by
# a socketpair): -a with hard links, symlinks, modes and times, a second
# run that sends nothing, then changes: --delete, --checksum, --backup,
# --inplace and --link-dest.
mkdir -p src/a/b/c src/empty
for i in $(seq 200); do printf 'file %d\n%s\n' "$i" "$(seq "$i")" >"src/a/f$i.txt"; done
head -c 3000000 /dev/zero | tr '\0' 'z' >src/a/b/big.bin
echo deep >src/a/b/c/deep.txt
ln -s ../f1.txt src/a/b/link
ln src/a/f2.txt src/a/b/hard
chmod 640 src/a/f3.txt; chmod 755 src/a/f4.txt
touch -d '2020-01-02 03:04:05' src/a/f5.txt
summary() { find "$1" -printf '%P %y %m %s %l\n' | sort | md5sum; }
st() { grep -E '^(Number of (regular )?files( transferred)?|Number of deleted files|Total file size):' | sed 's/ (reg: .*//'; }
rsync -aH --stats src/ dst/ | st
[ "$(summary src)" = "$(summary dst)" ] && echo trees equal
[ "$(stat -c %i dst/a/f2.txt)" = "$(stat -c %i dst/a/b/hard)" ] && echo hard link kept
stat -c '%y' dst/a/f5.txt | cut -c1-19
rsync -aH --stats src/ dst/ | st
rsync -aH --itemize-changes src/ dst/ | wc -l
rm src/a/f10.txt; echo changed >>src/a/f11.txt; echo extra >dst/a/stray.txt
rsync -aH --delete --itemize-changes src/ dst/ | sort
echo same-size >src/a/f12.txt; echo other-ize >dst/a/f12.txt; touch -r src/a/f12.txt dst/a/f12.txt
rsync -a src/ dst/ && cat dst/a/f12.txt
rsync -a --checksum --itemize-changes src/ dst/ && cat dst/a/f12.txt
echo v2 >src/a/f13.txt
rsync -a --backup --suffix=.bak src/ dst/ && cat dst/a/f13.txt.bak | head -1 && cat dst/a/f13.txt
printf 'x' | dd of=src/a/b/big.bin bs=1 seek=1000000 conv=notrunc status=none
rsync -a --inplace --no-whole-file --stats src/ dst/ | grep -E '^(Matched|Literal) data' | sed 's/ bytes//'
cmp src/a/b/big.bin dst/a/b/big.bin && echo big in sync
rsync -a --link-dest="$PWD/dst" src/ snap/
[ "$(stat -c %i dst/a/f100.txt)" = "$(stat -c %i snap/a/f100.txt)" ] && echo link-dest linked
rsync -a --exclude='*.txt' --include='*/' src/ only/ && find only -type f | sort
