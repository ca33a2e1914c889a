/* test-atomic-file.c — util/atomic_file: a file appears whole under its
 * name or not at all, and a failed write leaves no temporary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-tmpdir.h"
#include "util/atomic_file.h"

static size_t slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
	return got;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void test_tmp_name(void **state)
{
	(void)state;
	char tmp[64];
	assert_true(pa_atomic_tmp_name("out/report.json", 0, tmp, sizeof tmp));
	assert_string_equal(tmp, "out/.report.json.tmp");
	assert_true(pa_atomic_tmp_name("report.json", 0, tmp, sizeof tmp));
	assert_string_equal(tmp, ".report.json.tmp");
	char want[64];
	snprintf(want, sizeof want, "/c/.db.%ld.tmp", (long)getpid());
	assert_true(pa_atomic_tmp_name("/c/db", PA_ATOMIC_SHARED, tmp, sizeof tmp));
	assert_string_equal(tmp, want);
	/* A name that does not fit is refused, not cut (a cut name could be
	 * another file's). */
	assert_false(pa_atomic_tmp_name("out/report.json", 0, tmp, 10));
}

/* The final name holds the old contents until the commit, then the new. */
static void test_replace_on_commit(void **state)
{
	(void)state;
	char path[300], tmp[300], buf[64];
	snprintf(path, sizeof path, "%s/x.json", tmpdir);
	snprintf(tmp, sizeof tmp, "%s/.x.json.tmp", tmpdir);
	struct pa_error err = {{0}};
	assert_true(pa_atomic_write(path, "old\n", 4, 0, &err));

	struct pa_atomic_file af;
	assert_true(pa_atomic_open(&af, path, 0, &err));
	fputs("new contents\n", af.f);
	fflush(af.f);
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "old\n");
	assert_true(exists(tmp));
	assert_true(pa_atomic_commit(&af, true, &err));
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "new contents\n");
	assert_false(exists(tmp));
}

/* A write the caller saw fail: the old file stays, the temporary goes. */
static void test_failed_write_keeps_old(void **state)
{
	(void)state;
	char path[300], tmp[300], buf[64];
	snprintf(path, sizeof path, "%s/y.json", tmpdir);
	snprintf(tmp, sizeof tmp, "%s/.y.json.tmp", tmpdir);
	struct pa_error err = {{0}};
	assert_true(pa_atomic_write(path, "old\n", 4, 0, &err));
	struct pa_atomic_file af;
	assert_true(pa_atomic_open(&af, path, 0, &err));
	fputs("half", af.f);
	assert_false(pa_atomic_commit(&af, false, &err));
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "cannot write"));
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "old\n");
	assert_false(exists(tmp));

	/* Abort: the same, without an error. */
	assert_true(pa_atomic_open(&af, path, 0, &err));
	fputs("half", af.f);
	pa_atomic_abort(&af);
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "old\n");
	assert_false(exists(tmp));
}

/* The rename cannot happen (a folder has the final name): error, no temporary. */
static void test_rename_fails(void **state)
{
	(void)state;
	char path[300], tmp[300];
	snprintf(path, sizeof path, "%s/taken", tmpdir);
	snprintf(tmp, sizeof tmp, "%s/.taken.tmp", tmpdir);
	assert_int_equal(mkdir(path, 0755), 0);
	char inside[320];
	snprintf(inside, sizeof inside, "%s/keep", path);
	struct pa_error err = {{0}};
	assert_true(pa_atomic_write(inside, "x", 1, 0, &err)); /* folder not empty */
	assert_false(pa_atomic_write(path, "data", 4, 0, &err));
	assert_non_null(strstr(err.msg, path));
	assert_false(exists(tmp));

	/* Writers that close the temporary themselves. */
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fclose(f);
	assert_false(pa_atomic_rename(tmp, path, true, &err));
	assert_non_null(strstr(err.msg, "cannot rename"));
	assert_false(exists(tmp));
	char other[300];
	snprintf(other, sizeof other, "%s/z.pcapng", tmpdir);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fclose(f);
	assert_false(pa_atomic_rename(tmp, other, false, &err));
	assert_false(exists(tmp));
	assert_false(exists(other));
}

/* The temporary cannot be made (no such folder): the error names it. */
static void test_open_fails(void **state)
{
	(void)state;
	struct pa_atomic_file af;
	struct pa_error err = {{0}};
	assert_false(pa_atomic_open(&af, "/nonexistent/privaudit/x.json", 0, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/privaudit/.x.json.tmp"));
	assert_false(pa_atomic_write("/nonexistent/privaudit/x.json", "x", 1, 0, &err));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tmp_name),
		cmocka_unit_test_setup_teardown(test_replace_on_commit, tmpdir_make, tmpdir_remove),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_old, tmpdir_make, tmpdir_remove),
		cmocka_unit_test_setup_teardown(test_rename_fails, tmpdir_make, tmpdir_remove),
		cmocka_unit_test(test_open_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
