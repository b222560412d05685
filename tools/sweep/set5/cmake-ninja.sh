# A small C project built the way CI does: cmake configures for Ninja, a
# -j2 build of a static library, a shared one, a generated header and two
# executables, ctest with four tests, an install into a staging dir, and a
# no-op rebuild; then the same with cmake's Makefiles generator.
mkdir -p proj/src proj/lib
cat >proj/CMakeLists.txt <<'C'
cmake_minimum_required(VERSION 3.16)
project(demo C)
include(CheckIncludeFile)
include(CheckFunctionExists)
check_include_file(sys/epoll.h HAVE_EPOLL_H)
check_function_exists(pipe2 HAVE_PIPE2)
find_package(Threads REQUIRED)
configure_file(config.h.in config.h)
add_library(sums STATIC lib/sums.c)
target_include_directories(sums PUBLIC lib ${CMAKE_CURRENT_BINARY_DIR})
add_library(greet SHARED lib/greet.c)
target_include_directories(greet PUBLIC lib)
add_executable(demo src/main.c)
target_link_libraries(demo sums greet Threads::Threads)
add_executable(gen src/gen.c)
add_custom_command(OUTPUT table.h COMMAND gen > table.h DEPENDS gen)
add_custom_target(table ALL DEPENDS table.h)
enable_testing()
add_test(NAME runs COMMAND demo)
add_test(NAME sum COMMAND demo 100)
set_tests_properties(sum PROPERTIES PASS_REGULAR_EXPRESSION "sum=5050")
add_test(NAME fails COMMAND demo fail)
set_tests_properties(fails PROPERTIES WILL_FAIL TRUE)
add_test(NAME gen COMMAND gen)
install(TARGETS demo greet sums RUNTIME DESTINATION bin LIBRARY DESTINATION lib ARCHIVE DESTINATION lib)
C
cat >proj/config.h.in <<'C'
#cmakedefine HAVE_EPOLL_H 1
#cmakedefine HAVE_PIPE2 1
C
cat >proj/lib/sums.h <<'C'
long sum_to(long n);
C
cat >proj/lib/sums.c <<'C'
#include "sums.h"
#include "config.h"
long sum_to(long n) { long s = 0; for (long i = 1; i <= n; i++) s += i; return s; }
C
cat >proj/lib/greet.h <<'C'
const char *greet(void);
C
cat >proj/lib/greet.c <<'C'
#include "greet.h"
const char *greet(void) { return "hello from a shared library"; }
C
cat >proj/src/gen.c <<'C'
#include <stdio.h>
int main(void) { for (int i = 0; i < 8; i++) printf("#define SQ%d %d\n", i, i * i); return 0; }
C
cat >proj/src/main.c <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "greet.h"
#include "sums.h"
static long part[4];
static void *work(void *a) { long i = (long)a; part[i] = sum_to(1000 * (i + 1)); return 0; }
int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "fail") == 0) return 3;
	if (argc > 1) { printf("sum=%ld\n", sum_to(atol(argv[1]))); return 0; }
	pthread_t t[4];
	for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, work, (void *)i);
	long s = 0;
	for (int i = 0; i < 4; i++) { pthread_join(t[i], 0); s += part[i]; }
#if defined(HAVE_EPOLL_H) && defined(HAVE_PIPE2)
	printf("%s; threads %ld; config ok\n", greet(), s);
#else
	printf("%s; threads %ld; config missing\n", greet(), s);
#endif
	return 0;
}
C
cmake -S proj -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >cfg.log 2>&1 && echo configured
grep -c 'define HAVE' build/config.h
cmake --build build -j2 >build.log 2>&1 && echo built
./build/demo
./build/demo 100
sort build/table.h | md5sum
(cd build && ctest -j2 --output-on-failure 2>&1 | grep 'tests passed')
cmake --install build --prefix "$PWD/stage" >/dev/null && find stage -type f | sort | sed 's|^stage/||'
cmake --build build 2>&1 | grep -c 'no work to do'
touch proj/lib/sums.c
cmake --build build -j2 2>&1 | grep -o 'Linking C executable demo' | uniq
cmake -S proj -B build-make -G 'Unix Makefiles' >cfg2.log 2>&1 && make -C build-make -j2 >make.log 2>&1 && ./build-make/demo
