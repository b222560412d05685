// listdir: N full listings of a directory with opendir, readdir to the end
// and closedir; prints ns per listing. Each listing must find ENTRIES
// entries besides . and ..
#include "bench.h"
#include <dirent.h>

int main(int argc, char **argv) {
	long n = ops_args(argc, argv, 2, "DIR ENTRIES");
	const char *path = argv[2];
	long want = atol(argv[3]);
	long long t0 = now_ns();
	for (long i = 0; i < n; i++) {
		DIR *d = opendir(path);
		if (d == NULL)
			die_at("opendir", path);
		long got = 0;
		struct dirent *e;
		errno = 0;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				got++;
		if (errno != 0)
			die_at("readdir", path);
		closedir(d);
		if (got != want) {
			fprintf(stderr, "listing %ld of %s: %ld entries, want %ld\n", i + 1, path, got, want);
			return 1;
		}
	}
	report(now_ns() - t0, n);
	return 0;
}
