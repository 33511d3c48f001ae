/* SPDX-License-Identifier: Apache-2.0 */
/* The main() of every fuzz target. Without libFuzzer it replays a corpus and
 * prints TAP (one line per input, each also cut short twice, as a truncated
 * read would); with libFuzzer (--enable-fuzzing) any argument hands control to
 * the fuzzer, and no argument still replays, so `make check` works in both. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

#include "lib/macro.h"
#include "lib/strutil.h"
#include "lib/sysroot.h"
#include "tests/fuzz/fuzz.h"

#ifdef ATREST_LIBFUZZER
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size));
#endif

/* Inputs above this are not corpus material; libFuzzer's -max_len is lower. */
#define REPLAY_MAX_INPUT (8u << 20)

static int read_input(const char *path, uint8_t **ret, size_t *ret_size)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!f || fstat(fileno(f), &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_INPUT)
		return -EFBIG;
	/* Exactly sized, so that a read past the end is caught by ASan and
	 * valgrind just as it is under libFuzzer. */
	n = (size_t)st.st_size;
	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	if (fread(buf, 1, n, f) != n) {
		free(buf);
		return -EIO;
	}
	*ret = buf;
	*ret_size = n;
	return 0;
}

/* One input whole, then its first half and all but its last byte. */
static int replay_one(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int r = read_input(path, &data, &size);

	if (r < 0)
		return r;
	LLVMFuzzerTestOneInput(data, size);
	LLVMFuzzerTestOneInput(data, size / 2);
	if (size > 0)
		LLVMFuzzerTestOneInput(data, size - 1);
	free(data);
	return 0;
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of a directory (sorted), or the path itself. */
static int collect(const char *path, char ***files)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct stat st;
	struct dirent *de;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return strv_extend(files, path);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int r;

		if (de->d_name[0] == '.')
			continue;
		r = strv_push(files, path_join(path, de->d_name));
		if (r < 0)
			return r;
	}
	return 0;
}

/* tests/fuzz/fuzz-NAME (or libtool's lt-fuzz-NAME) -> NAME. */
static const char *target_name(const char *argv0)
{
	const char *base = path_basename(argv0);

	if (startswith(base, "lt-"))
		base += 3;
	if (startswith(base, "fuzz-"))
		base += 5;
	return base;
}

/* The directories tests/fuzz/seeds.list names for this target, which hold
 * seeds that live elsewhere in the tree (fixtures, samples). */
static int collect_listed_seeds(const char *top, const char *name, char ***files)
{
	_cleanup_free_ char *list = strprintf("%s/tests/fuzz/seeds.list", top);
	_cleanup_fclose_ FILE *f = NULL;
	char line[1024];

	if (!list)
		return -ENOMEM;
	f = fopen(list, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \t\n", &save);

		if (!tok || tok[0] == '#' || !streq(tok, name))
			continue;
		while ((tok = strtok_r(NULL, " \t\n", &save))) {
			_cleanup_free_ char *dir = path_join(top, tok);
			int r = dir ? collect(dir, files) : -ENOMEM;

			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* The default corpus: $FUZZ_CORPUS, else $top_srcdir/tests/fuzz/corpus/NAME
 * and the seeds listed for NAME. */
static int default_corpus(const char *argv0, char ***files, char **ret_where)
{
	const char *top = getenv("top_srcdir") ?: ".", *name = target_name(argv0);
	int r;

	if (getenv("FUZZ_CORPUS")) {
		*ret_where = strdup(getenv("FUZZ_CORPUS"));
		return *ret_where ? collect(*ret_where, files) : -ENOMEM;
	}
	*ret_where = strprintf("%s/tests/fuzz/corpus/%s", top, name);
	if (!*ret_where)
		return -ENOMEM;
	r = collect(*ret_where, files);
	return r < 0 ? r : collect_listed_seeds(top, name, files);
}

static int replay(int argc, char **argv)
{
	_cleanup_strv_free_ char **files = NULL;
	_cleanup_free_ char *corpus = NULL;
	size_t n;
	int failed = 0;

	if (argc < 2) {
		if (default_corpus(argv[0], &files, &corpus) < 0) {
			printf("Bail out! no corpus at %s\n", corpus ? corpus : "?");
			return 1;
		}
	}
	for (int i = 1; i < argc; i++)
		if (collect(argv[i], &files) < 0) {
			printf("Bail out! cannot read %s\n", argv[i]);
			return 1;
		}
	n = strv_length(files);
	if (n == 0) {
		printf("Bail out! empty corpus %s\n", corpus ? corpus : "");
		return 1;
	}
	qsort(files, n, sizeof(char *), path_cmp);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		int r = replay_one(files[i]);

		printf("%s %zu - %s%s%s\n", r < 0 ? "not ok" : "ok", i + 1, path_basename(files[i]),
		       r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		fflush(stdout);
		failed |= r < 0;
	}
	return failed;
}

int main(int argc, char **argv)
{
#ifdef ATREST_LIBFUZZER
	if (argc > 1 && !getenv("FUZZ_REPLAY"))
		return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
#endif
	return replay(argc, argv);
}
