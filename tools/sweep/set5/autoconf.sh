# autoconf 2.71 on a configure.ac with header, function, library, type
# and compile checks, then ./configure (hundreds of forks and execs of
# the shell, sed, gcc) and make, a make check and a make distclean.
mkdir -p pkg && cd pkg || exit 1
cat >configure.ac <<'A'
AC_INIT([demo], [1.2.3], [nobody@example.org])
AC_CONFIG_SRCDIR([demo.c])
AC_CONFIG_HEADERS([config.h])
AC_PROG_CC
AC_CHECK_HEADERS([stdio.h unistd.h sys/epoll.h sys/nosuchheader.h])
AC_CHECK_FUNCS([fork pipe2 memfd_create no_such_function_xyz])
AC_CHECK_LIB([m], [cos])
AC_CHECK_SIZEOF([long])
AC_CHECK_TYPES([struct timespec], [], [], [[#include <time.h>]])
AC_C_BIGENDIAN
AC_MSG_CHECKING([whether the compiler knows __builtin_popcount])
AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [[return __builtin_popcount(7);]])],
	[AC_MSG_RESULT([yes]); AC_DEFINE([HAVE_POPCOUNT], [1], [popcount])], [AC_MSG_RESULT([no])])
AC_RUN_IFELSE([AC_LANG_PROGRAM([], [[return 0;]])], [AC_SUBST([RUNS], [yes])], [AC_SUBST([RUNS], [no])])
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
A
cat >Makefile.in <<'M'
CC = @CC@
CFLAGS = @CFLAGS@
LIBS = @LIBS@
RUNS = @RUNS@
all: demo
demo: demo.c config.h
	$(CC) $(CFLAGS) -o demo demo.c $(LIBS)
check: demo
	./demo | grep -q 'cos ok' && echo "check passed (runs=$(RUNS))"
clean:
	rm -f demo
distclean: clean
	rm -f config.h config.log config.status Makefile
M
cat >demo.c <<'C'
#include "config.h"
#include <math.h>
#include <stdio.h>
int main(void) {
	printf("%s %s; long is %d bytes\n", PACKAGE_NAME, PACKAGE_VERSION, SIZEOF_LONG);
#ifdef HAVE_LIBM
	printf("cos ok %.3f\n", cos(0.0));
#endif
#if defined(HAVE_FORK) && defined(HAVE_PIPE2) && !defined(HAVE_NO_SUCH_FUNCTION_XYZ) && !defined(HAVE_SYS_NOSUCHHEADER_H)
	printf("checks ok\n");
#endif
	return 0;
}
C
autoconf && echo autoconf ok
autoheader && echo autoheader ok
./configure >configure.out 2>&1 && echo configured
grep -c '^checking' configure.out
grep -E '^#define (HAVE_|SIZEOF_LONG|HAVE_POPCOUNT)' config.h | sort
grep -E '^(checking whether byte ordering|checking for cos in -lm|checking whether the compiler knows)' configure.out
make >make.out 2>&1 && ./demo
make check
make distclean >/dev/null && ls
