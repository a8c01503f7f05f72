/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver that runs a fuzz target without libFuzzer: every file
 * named, and every file in every directory named, through
 * LLVMFuzzerTestOneInput once, in name order. This is how each target's
 * corpus becomes a unit test of every build (gcc included); a broken
 * invariant aborts, as under libFuzzer.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Targets without set-up do not define it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
run_file(const char *path)
{
	uint8_t *buf;
	size_t len;
	long n;
	FILE *f = fopen(path, "rb");

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	len = (size_t)n;
	/* An exact-size copy: ASan sees any read past the input. */
	buf = malloc(len != 0 ? len : 1);
	if (buf == NULL || fread(buf, 1, len, f) != len) {
		perror(path);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	unsigned int runs = 0;
	int i, failed = 0;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		struct dirent **list;
		struct stat st;
		int n, j;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			failed++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed += run_file(argv[i]) != 0;
			runs++;
			continue;
		}
		n = scandir(argv[i], &list, NULL, by_name);
		if (n < 0) {
			perror(argv[i]);
			failed++;
			continue;
		}
		for (j = 0; j < n; j++) {
			char path[4096];

			if (list[j]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i],
					 list[j]->d_name);
				failed += run_file(path) != 0;
				runs++;
			}
			free(list[j]);
		}
		free(list);
	}
	printf("%u inputs run, %d unreadable\n", runs, failed);
	/* An empty corpus tests nothing: count it as a failure. */
	return failed != 0 || runs == 0 ? 1 : 0;
}
