# make -j2 of 60 generated C files through ccache (its cache in the
# working directory), into a static library and a program; a second
# build from clean is all cache hits.
export CCACHE_DIR=$PWD/cc CCACHE_NOHASHDIR=1 CCACHE_BASEDIR=$PWD
mkdir src
for i in $(seq 60); do printf 'int f%d(int x) { return x * %d + %d; }\n' $i $i $((i % 7)) >src/f$i.c; done
{
	echo '#include <stdio.h>'
	for i in $(seq 60); do echo "int f$i(int);"; done
	echo 'int main(void) { long s = 0;'
	for i in $(seq 60); do echo "s += f$i($i);"; done
	echo 'printf("sum %ld\n", s); return 0; }'
} >src/main.c
cat >Makefile <<'M'
CC = ccache gcc
OBJS = $(patsubst src/%.c,obj/%.o,$(filter-out src/main.c,$(wildcard src/*.c)))
prog: obj/main.o libf.a
	$(CC) -o $@ $^
libf.a: $(OBJS)
	ar rcs $@ $^
obj/%.o: src/%.c | obj
	$(CC) -O1 -c -o $@ $<
obj:
	mkdir -p obj
clean:
	rm -rf obj libf.a prog
M
ccache -z >/dev/null
make -s -j2 && ./prog
make -s clean && make -s -j2 && ./prog
ccache -s --print-stats | grep -E '^(direct_cache_hit|cache_miss)\s' | sort
ar t libf.a | wc -l
echo done
