/* test-hs-cache.c — the compiled-database cache stays bounded: a trim
 * removes the least recently used databases first until the folder is under
 * 3/4 of its byte and file bounds, removes temporaries left behind by dead
 * writers, and never touches a file whose name the cache does not write; a
 * compile through the cache stores a database that the next compile loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/hs_cache.h"
#include "test-tmpdir.h"

/* dir/hs-<64 hex digits of i>.db of size bytes, last used `age` seconds ago. */
static void put_db(const char *dir, unsigned i, size_t size, int age)
{
	char path[512];
	snprintf(path, sizeof path, "%s/hs-%064x.db", dir, i);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (size_t k = 0; k < size; k++)
		fputc('x', f);
	fclose(f);
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool db_exists(const char *dir, unsigned i)
{
	char path[512];
	snprintf(path, sizeof path, "%s/hs-%064x.db", dir, i);
	return access(path, F_OK) == 0;
}

static bool exists(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void touch(const char *dir, const char *name, int age)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	struct timespec t[2];
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

static void trim_removes_least_recently_used_by_bytes(void **state)
{
	(void)state;
	const char *dir = tmpdir;
	/* Ten databases of 100 bytes; database i was used i*10 seconds ago. */
	for (unsigned i = 0; i < 10; i++)
		put_db(dir, i, 100, (int)i * 10);
	touch(dir, "notes.txt", 100000);
	touch(dir, "hs-short.db", 100000);
	hs_cache_trim(dir, 1000, 100); /* exactly at the bound: nothing to do */
	for (unsigned i = 0; i < 10; i++)
		assert_true(db_exists(dir, i));
	hs_cache_trim(dir, 800, 100); /* over: down to 600 bytes, the oldest go */
	for (unsigned i = 0; i < 6; i++)
		assert_true(db_exists(dir, i));
	for (unsigned i = 6; i < 10; i++)
		assert_false(db_exists(dir, i));
	assert_true(exists(dir, "notes.txt"));
	assert_true(exists(dir, "hs-short.db"));
}

static void trim_bounds_the_number_of_files(void **state)
{
	(void)state;
	const char *dir = tmpdir;
	for (unsigned i = 0; i < 40; i++)
		put_db(dir, i, 1, (int)i);
	hs_cache_trim(dir, 1u << 30, 20); /* down to 15 files, the newest */
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(db_exists(dir, i), i < 15);
}

static void trim_removes_stale_temporaries_only(void **state)
{
	(void)state;
	const char *dir = tmpdir;
	char stale[200], fresh[200];
	snprintf(stale, sizeof stale, ".hs-%064x.db.4242.tmp", 1u);
	snprintf(fresh, sizeof fresh, ".hs-%064x.db.4243.tmp", 2u);
	touch(dir, stale, 7200);
	touch(dir, fresh, 10);
	hs_cache_trim(dir, 1u << 30, 100);
	assert_false(exists(dir, stale));
	assert_true(exists(dir, fresh)); /* a writer may be at work */
}

static void compile_stores_and_loads(void **state)
{
	(void)state;
	const char *dir = tmpdir;
	char path[512];
	setenv("PRIVAUDIT_CACHE_DIR", dir, 1);
	const char *expr = "deviceid=[0-9a-f]{32}";
	unsigned flags = 0, id = 7;
	hs_database_t *db = NULL;
	hs_compile_error_t *err = NULL;
	assert_int_equal(hs_cache_compile_multi(&expr, &flags, &id, 1, HS_MODE_BLOCK, &db, &err), HS_SUCCESS);
	hs_free_database(db);
	/* One database file, found by the next compile without compiling. */
	snprintf(path, sizeof path, "ls %s/hs-*.db >/dev/null 2>&1", dir);
	assert_int_equal(system(path), 0);
	db = NULL;
	assert_int_equal(hs_cache_compile_multi(&expr, &flags, &id, 1, HS_MODE_BLOCK, &db, &err), HS_SUCCESS);
	assert_non_null(db);
	hs_free_database(db);
	unsetenv("PRIVAUDIT_CACHE_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(trim_removes_least_recently_used_by_bytes, tmpdir_make, tmpdir_remove),
		cmocka_unit_test_setup_teardown(trim_bounds_the_number_of_files, tmpdir_make, tmpdir_remove),
		cmocka_unit_test_setup_teardown(trim_removes_stale_temporaries_only, tmpdir_make, tmpdir_remove),
		cmocka_unit_test_setup_teardown(compile_stores_and_loads, tmpdir_make, tmpdir_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
