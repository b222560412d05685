# meson and ninja: a C project with a library, a generated header, a
# configure check and two tests (one run in parallel), then install to
# a DESTDIR.
mkdir -p p/src && cd p
cat >meson.build <<'M'
project('demo', 'c', version : '0.3')
cc = meson.get_compiler('c')
conf = configuration_data()
conf.set10('HAVE_STRNLEN', cc.has_function('strnlen'))
conf.set_quoted('VERSION', meson.project_version())
configure_file(output : 'config.h', configuration : conf)
lib = library('demo', 'src/lib.c')
exe = executable('demo', 'src/main.c', link_with : lib, install : true)
test('runs', exe, args : ['7'])
test('fails-right', exe, args : ['x'], should_fail : true)
M
printf 'int sq(int x) { return x * x; }\n' >src/lib.c
cat >src/main.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "config.h"
int sq(int);
int main(int c, char **v) {
	if (c < 2 || atoi(v[1]) == 0) return 1;
	printf("demo %s strnlen=%d sq=%d\n", VERSION, HAVE_STRNLEN, sq(atoi(v[1])));
	return 0;
}
C
meson setup build >setup.log 2>&1 && echo setup ok
ninja -C build -j2 >/dev/null && echo built
./build/demo 9
meson test -C build --num-processes 2 2>&1 | grep -E '^(Ok|Fail|Expected Fail|Unexpected Pass|Skipped|Timeout):'
DESTDIR="$PWD/inst" meson install -C build >/dev/null && find inst -type f -name demo | sed 's|.*/usr|/usr|'
echo done
