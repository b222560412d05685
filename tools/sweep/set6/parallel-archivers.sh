# GNU parallel (-j2, --pipe, --keep-order), 7z with two threads, zip,
# zstd -T2 and xz -T2, busybox's tar and sha256sum.
seq 1 200 | parallel -j2 --keep-order 'echo {} $(( {} * {} ))' | md5sum
seq 1 100000 | parallel -j2 --pipe --block 100k --keep-order wc -l | paste -sd+ | bc
parallel -j2 --tag 'echo {1}-{2}' ::: a b ::: 1 2 | sort
mkdir -p src && for i in $(seq 50); do seq $((i * 1000)) >src/f$i; done
7z a -mmt2 -bd -bso0 a.7z src && echo 7z ok
7z t -bd a.7z | grep -E '^(Everything|Files)'
mkdir x7 && (cd x7 && 7z x -bd -bso0 ../a.7z) && diff -r src x7/src && echo 7z same
zip -qr a.zip src && unzip -qt a.zip
mkdir xz_ && (cd xz_ && unzip -q ../a.zip) && diff -r src xz_/src && echo zip same
tar cf a.tar src
zstd -q -T2 -19 a.tar -o a.tar.zst && zstd -qdc a.tar.zst | cmp - a.tar && echo zstd same
xz -T2 -k a.tar && xz -dc a.tar.xz | cmp - a.tar && echo xz same
mkdir bb && busybox tar -xf a.tar -C bb && diff -r src bb/src && echo busybox tar same
busybox sha256sum src/f7 | cut -c1-16
echo done
