/*
 * test-tmpdir.h — a fresh folder under /tmp for a test (or a group of
 * tests), removed with everything in it afterwards. Use tmpdir_make and
 * tmpdir_remove as cmocka setup/teardown; the folder is tmpdir.
 * tmpdir_remove_path removes any other folder a test made.
 */
#ifndef PA_TEST_TMPDIR_H
#define PA_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[256] __attribute__((unused));

__attribute__((unused)) static void tmpdir_remove_path(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

__attribute__((unused)) static int tmpdir_make(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/pa-test.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

__attribute__((unused)) static int tmpdir_remove(void **state)
{
	(void)state;
	tmpdir_remove_path(tmpdir);
	return 0;
}

#endif
