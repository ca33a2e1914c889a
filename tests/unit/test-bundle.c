/*
 * test-bundle.c — the output folder's staging and move into place
 * (report/bundle.c), live mode's in-place capture folder, and the app and
 * phone facts of a device profile (detect/device.c). The whole bundle from the
 * command line is tests/bundle/bundle-test.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/detect.h"
#include "report/bundle.h"
#include "test-tmpdir.h"

static void put(const char *dir, const char *name, const char *text)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *dir, const char *name)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static size_t entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_stage_commit_replace(void **state)
{
	(void)state;
	char dir[300];
	snprintf(dir, sizeof dir, "%s/out/sub", tmpdir);
	struct bundle_out b;
	struct pa_error err = {{0}};
	assert_true(bundle_out_open(&b, dir, false, NULL, &err));
	assert_non_null(strstr(b.staging, "/" BUNDLE_STAGING_PREFIX));
	put(b.staging, "report.json", "{}");
	put(b.staging, "manifest.json", "{\"run\": 1}");
	assert_int_equal(entries(dir), 1); /* only the staging folder until the commit */
	assert_true(bundle_out_commit(&b, &err));
	assert_true(exists(dir, "manifest.json"));
	assert_int_equal(entries(dir), 2);

	/* A second run: refused, then replacing. */
	assert_false(bundle_out_open(&b, dir, false, NULL, &err));
	assert_non_null(strstr(err.msg, "not empty (an earlier audit's output?)"));
	put(dir, "old-only.txt", "x");
	assert_true(bundle_out_open(&b, dir, true, NULL, &err));
	put(b.staging, "manifest.json", "{\"run\": 2}");
	/* The earlier bundle is whole until the commit. */
	assert_true(exists(dir, "old-only.txt"));
	assert_true(bundle_out_commit(&b, &err));
	assert_false(exists(dir, "old-only.txt"));
	assert_false(exists(dir, "report.json"));
	assert_int_equal(entries(dir), 1);

	/* A folder that is not a bundle is never replaced. */
	char other[300];
	snprintf(other, sizeof other, "%s/notes", tmpdir);
	assert_int_equal(mkdir(other, 0755), 0);
	put(other, "thesis.tex", "x");
	assert_false(bundle_out_open(&b, other, true, NULL, &err));
	assert_non_null(strstr(err.msg, "not replacing a folder that is not an audit's output"));
	assert_int_equal(entries(other), 1);
}

static void test_live_in_place_capture(void **state)
{
	(void)state;
	char dir[300], cap[340];
	snprintf(dir, sizeof dir, "%s/live", tmpdir);
	snprintf(cap, sizeof cap, "%s/capture", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(cap, 0755), 0); /* e.g. a mount point made ready */
	struct bundle_out b;
	struct pa_error err = {{0}};
	assert_false(bundle_out_open(&b, dir, false, NULL, &err)); /* offline: not empty */
	assert_true(bundle_out_open(&b, dir, false, "capture", &err));
	put(cap, "capture-000001.pcapng", "ring");
	put(b.staging, "manifest.json", "{}");
	assert_true(bundle_out_commit(&b, &err));
	assert_true(exists(cap, "capture-000001.pcapng"));
	assert_true(exists(dir, "manifest.json"));

	/* live --replace: the earlier ring goes when the new capture starts,
	 * its folder stays. */
	assert_false(bundle_out_open(&b, dir, false, "capture", &err));
	assert_true(bundle_out_open(&b, dir, true, "capture", &err));
	assert_false(exists(dir, "manifest.json"));
	assert_false(exists(cap, "capture-000001.pcapng"));
	assert_true(exists(dir, "capture"));
	put(cap, "capture-000001.pcapng", "new ring");
	put(b.staging, "manifest.json", "{}");
	assert_true(bundle_out_commit(&b, &err));
	assert_true(exists(cap, "capture-000001.pcapng"));
	assert_int_equal(entries(dir), 2);
}

static void test_device_facts(void **state)
{
	(void)state;
	put(tmpdir, "phone.yaml",
	    "device:\n  ip: 10.66.0.2\n  model: Pixel 7\n  os_version: \"Android 14\"\n"
	    "identifiers:\n  imsi: \"460011234567890\"\n"
	    "app:\n  package: com.lanxin.app\n  version: \"7.3.1\"\n"
	    "  apk_sha256: ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB\n");
	char path[400];
	snprintf(path, sizeof path, "%s/phone.yaml", tmpdir);
	struct pa_diag diag = {.out = stderr};
	struct detect_engine *e = detect_engine_load(PA_SOURCE_DIR "/signatures", path, &diag);
	assert_non_null(e);
	struct detect_engine_info info;
	detect_engine_get_info(e, &info);
	const struct device_facts *f = info.device_facts;
	assert_string_equal(f->phone_model, "Pixel 7");
	assert_string_equal(f->os_version, "Android 14");
	assert_string_equal(f->app_package, "com.lanxin.app");
	assert_string_equal(f->app_version, "7.3.1");
	assert_string_equal(f->apk_sha256, "abababababababababababababababababababababababababababababababab");
	detect_engine_free(e);

	put(tmpdir, "bad.yaml", "device:\n  ip: 10.66.0.2\nidentifiers:\n  imsi: \"460011234567890\"\n"
	    "app:\n  package: x\n  apk_sha256: 12ab\n  flavour: y\n");
	snprintf(path, sizeof path, "%s/bad.yaml", tmpdir);
	char text[2048] = "";
	FILE *mem = fmemopen(text, sizeof text, "w");
	struct pa_diag bad = {.out = mem};
	assert_false(detect_check_file(path, &bad));
	fclose(mem);
	assert_int_equal(bad.errors, 2);
	assert_non_null(strstr(text, "bad.yaml:7: app.apk_sha256 must be 64 hexadecimal digits"));
	assert_non_null(strstr(text, "bad.yaml:8: unknown key 'flavour' in app"));
	assert_true(device_facts_sha256_ok("0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"));
	assert_false(device_facts_sha256_ok("0123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_commit_replace),
		cmocka_unit_test(test_live_in_place_capture),
		cmocka_unit_test(test_device_facts),
	};
	return cmocka_run_group_tests(tests, tmpdir_make, tmpdir_remove);
}
