/*
 * test-hasher.c — the input hasher thread: hashes equal OpenSSL's, several
 * files queued come back in order, a file that grows, is rewritten or is
 * replaced while "audited" is flagged, an unreadable file gives the usual
 * message, and the manifest records (and verify rejects) a flagged hash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/evidence.h"
#include "report/manifest.h"
#include "util/hasher.h"
#include "util/sha256.h"

#include "test-tmpdir.h"

/* tmpdir/name with len bytes derived from seed; its SHA-256 (EVP one-shot) in hex. */
static void write_file(const char *name, size_t len, unsigned seed, char *path, size_t pathlen,
		       char hex[PA_SHA256_HEX])
{
	snprintf(path, pathlen, "%s/%s", tmpdir, name);
	uint8_t *buf = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 2654435761u) >> 13 ^ seed);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	unsigned char md[32];
	unsigned int mdlen;
	assert_int_equal(EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	free(buf);
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The openssl command's answer, when it is installed. */
static bool openssl_cli(const char *path, char hex[PA_SHA256_HEX])
{
	if (access("/usr/bin/openssl", X_OK) != 0)
		return false;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "/usr/bin/openssl dgst -sha256 -r '%s'", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[200] = "";
	assert_non_null(fgets(line, sizeof line, p));
	assert_int_equal(pclose(p), 0);
	snprintf(hex, PA_SHA256_HEX, "%.64s", line);
	return true;
}

static void test_known_files(void **state)
{
	/* Empty, "abc" (FIPS 180-2's example), and across 1 MiB read boundaries. */
	char path[300], want[PA_SHA256_HEX], cli[PA_SHA256_HEX];
	snprintf(path, sizeof path, "%s/abc", tmpdir);
	FILE *f = fopen(path, "wb");
	fputs("abc", f);
	fclose(f);
	struct pa_hasher *h = pa_hasher_new();
	const struct pa_file_hash *r = pa_hash_job_wait(pa_hasher_add(h, path, -1));
	assert_true(r->ok);
	assert_false(r->changed);
	assert_int_equal(r->size, 3);
	assert_string_equal(r->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

	static const size_t sizes[] = {0, 1, (1u << 20) - 1, 1u << 20, (3u << 20) + 7};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "known-%zu", i);
		write_file(name, sizes[i], (unsigned)i, path, sizeof path, want);
		int fd = open(path, O_RDONLY);
		struct pa_hash_job *j = pa_hasher_add(h, path, fd);
		pa_hash_job_reader_done(j, fd);
		r = pa_hash_job_wait(j);
		close(fd);
		assert_true(r->ok);
		assert_false(r->changed);
		assert_int_equal(r->size, sizes[i]);
		assert_string_equal(r->sha256, want);
		if (openssl_cli(path, cli))
			assert_string_equal(r->sha256, cli);
		/* The function the manifest uses for other files agrees. */
		char direct[PA_SHA256_HEX];
		uint64_t size;
		struct pa_error err;
		assert_true(pa_sha256_file(path, direct, &size, &err));
		assert_string_equal(direct, want);
		assert_int_equal(size, sizes[i]);
	}
	pa_hasher_free(h);
}

static void test_several_in_order(void **state)
{
	enum { N = 6 };
	char paths[N][300], want[N][PA_SHA256_HEX];
	int fds[N];
	struct pa_hash_job *jobs[N];
	struct pa_hasher *h = pa_hasher_new();
	for (int i = 0; i < N; i++) {
		char name[32];
		snprintf(name, sizeof name, "multi-%d", i);
		write_file(name, (size_t)(i + 1) * 700000, (unsigned)(i + 40), paths[i], sizeof paths[i], want[i]);
		fds[i] = open(paths[i], O_RDONLY);
		jobs[i] = pa_hasher_add(h, paths[i], fds[i]);
	}
	for (int i = 0; i < N; i++)
		pa_hash_job_reader_done(jobs[i], fds[i]);
	/* Waited for out of order: each job has its own file's result. */
	for (int i = N - 1; i >= 0; i--) {
		const struct pa_file_hash *r = pa_hash_job_wait(jobs[i]);
		assert_true(r->ok);
		assert_false(r->changed);
		assert_string_equal(r->sha256, want[i]);
		assert_int_equal(r->size, (uint64_t)(i + 1) * 700000);
		/* Waiting again returns the same. */
		assert_ptr_equal(pa_hash_job_wait(jobs[i]), r);
		close(fds[i]);
	}
	pa_hasher_free(h);
}

/* The capture grows after it was queued (a capture still being written):
 * whether the hasher read it before or after the append, it is flagged. */
static void test_grown_file_flagged(void **state)
{
	char path[300], want[PA_SHA256_HEX];
	write_file("growing", 2u << 20, 7, path, sizeof path, want);
	int fd = open(path, O_RDONLY);
	struct pa_hasher *h = pa_hasher_new();
	struct pa_hash_job *j = pa_hasher_add(h, path, fd);
	append(path, "more packets");
	pa_hash_job_reader_done(j, fd);
	const struct pa_file_hash *r = pa_hash_job_wait(j);
	assert_true(r->ok);
	assert_true(r->changed);
	assert_non_null(strstr(r->problem, "changed while it was audited (size"));
	close(fd);
	pa_hasher_free(h);
}

/* Rewritten in place, same size: the modification time gives it away. */
static void test_rewritten_file_flagged(void **state)
{
	char path[300], want[PA_SHA256_HEX];
	write_file("rewritten", 4096, 8, path, sizeof path, want);
	int fd = open(path, O_RDONLY);
	struct pa_hasher *h = pa_hasher_new();
	struct pa_hash_job *j = pa_hasher_add(h, path, fd);
	const struct pa_file_hash *r = pa_hash_job_wait(j); /* hashed before the change */
	assert_true(r->ok);
	assert_false(r->changed);
	int w = open(path, O_WRONLY);
	assert_int_equal(pwrite(w, "X", 1, 100), 1);
	/* A later mtime than the first look, whatever the clock granularity. */
	struct stat st;
	assert_int_equal(fstat(w, &st), 0);
	struct timespec times[2] = {st.st_atim, {st.st_mtim.tv_sec + 2, st.st_mtim.tv_nsec}};
	assert_int_equal(futimens(w, times), 0);
	close(w);
	pa_hash_job_reader_done(j, fd);
	r = pa_hash_job_wait(j);
	assert_true(r->changed);
	assert_non_null(strstr(r->problem, "modified at"));
	close(fd);
	pa_hasher_free(h);

	/* The usual order: reader done before the result is asked for. */
	fd = open(path, O_RDONLY);
	h = pa_hasher_new();
	j = pa_hasher_add(h, path, fd);
	w = open(path, O_WRONLY);
	assert_int_equal(pwrite(w, "Y", 1, 200), 1);
	assert_int_equal(fstat(w, &st), 0);
	times[1] = (struct timespec){st.st_mtim.tv_sec + 4, st.st_mtim.tv_nsec};
	assert_int_equal(futimens(w, times), 0);
	close(w);
	pa_hash_job_reader_done(j, fd);
	r = pa_hash_job_wait(j);
	assert_true(r->ok);
	assert_true(r->changed);
	assert_non_null(strstr(r->problem, "modified at"));
	close(fd);
	pa_hasher_free(h);
}

/* The path names another file than the one the reader has open. */
static void test_replaced_file_flagged(void **state)
{
	char path[300], other[300], want[PA_SHA256_HEX], want2[PA_SHA256_HEX];
	write_file("replaced", 5000, 9, path, sizeof path, want);
	write_file("replacement", 5000, 10, other, sizeof other, want2);
	int fd = open(path, O_RDONLY);
	assert_int_equal(rename(other, path), 0);
	struct pa_hasher *h = pa_hasher_new();
	struct pa_hash_job *j = pa_hasher_add(h, path, fd);
	pa_hash_job_reader_done(j, fd);
	const struct pa_file_hash *r = pa_hash_job_wait(j);
	assert_true(r->ok);
	assert_true(r->changed);
	assert_non_null(strstr(r->problem, "replaced by another file"));
	close(fd);
	pa_hasher_free(h);
}

static void test_unreadable_file(void **state)
{
	char path[300];
	snprintf(path, sizeof path, "%s/no-such-capture.pcap", tmpdir);
	struct pa_hasher *h = pa_hasher_new();
	const struct pa_file_hash *r = pa_hash_job_wait(pa_hasher_add(h, path, -1));
	assert_false(r->ok);
	char hex[PA_SHA256_HEX];
	struct pa_error today;
	assert_false(pa_sha256_file(path, hex, NULL, &today));
	assert_string_equal(r->error.msg, today.msg);
	assert_non_null(strstr(r->error.msg, ": No such file or directory"));
	pa_hasher_free(h);
}

/* Freed with work queued: the jobs not started are dropped, nothing hangs or leaks. */
static void test_free_with_pending_jobs(void **state)
{
	char path[300], want[PA_SHA256_HEX];
	write_file("pending", 4u << 20, 11, path, sizeof path, want);
	struct pa_hasher *h = pa_hasher_new();
	for (int i = 0; i < 20; i++)
		pa_hasher_add(h, path, -1);
	pa_hasher_free(h);
	pa_hasher_free(pa_hasher_new()); /* never started */
}

static enum verify_result verify_dir(const char *dir, FILE *out)
{
	struct verify_options o = {.dir = dir};
	return manifest_verify(&o, out);
}

/* manifest.json takes a capture's hash from the hasher; a flagged one is
 * marked and never verifies; a failed one fails the manifest as before. */
static void test_manifest_uses_hashes(void **state)
{
	char path[300], want[PA_SHA256_HEX], out[300];
	write_file("capture.pcap", 1000, 12, path, sizeof path, want);
	snprintf(out, sizeof out, "%s/out", tmpdir);
	assert_int_equal(mkdir(out, 0755), 0);

	struct pa_file_hash hash = {.ok = true, .size = 1000};
	snprintf(hash.sha256, sizeof hash.sha256, "%s", want);
	struct manifest_entry e = {.role = "capture", .path = path, .hash = &hash};
	struct pa_error err = {{0}};
	assert_true(manifest_write(&(struct manifest_folders){.staging = out}, &e, 1, NULL, NULL, &err));
	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(verify_dir(out, devnull), VERIFY_OK);

	hash.changed = true;
	snprintf(hash.problem, sizeof hash.problem, "changed while it was audited (size 900, then 1000 bytes)");
	assert_true(manifest_write(&(struct manifest_folders){.staging = out}, &e, 1, NULL, NULL, &err));
	char mpath[400];
	snprintf(mpath, sizeof mpath, "%s/manifest.json", out);
	json_error_t je;
	json_t *m = json_load_file(mpath, 0, &je);
	assert_non_null(m);
	json_t *f0 = json_array_get(json_object_get(m, "files"), 0);
	assert_true(json_is_true(json_object_get(f0, "changed_during_audit")));
	assert_string_equal(json_string_value(json_object_get(f0, "sha256")), want);
	assert_non_null(strstr(json_string_value(json_object_get(f0, "problem")), "size 900"));
	json_decref(m);
	char report[2048];
	FILE *mem = fmemopen(report, sizeof report, "w");
	assert_int_equal(verify_dir(out, mem), VERIFY_FAILED);
	fclose(mem);
	assert_non_null(strstr(report, "CHANGED  "));
	assert_non_null(strstr(report, "(during the audit: changed while it was audited"));

	struct pa_file_hash failed = {.ok = false};
	snprintf(failed.error.msg, sizeof failed.error.msg, "%s: Permission denied", path);
	e.hash = &failed;
	assert_false(manifest_write(&(struct manifest_folders){.staging = out}, &e, 1, NULL, NULL, &err));
	assert_string_equal(err.msg, failed.error.msg);
	fclose(devnull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_files),
		cmocka_unit_test(test_several_in_order),
		cmocka_unit_test(test_grown_file_flagged),
		cmocka_unit_test(test_rewritten_file_flagged),
		cmocka_unit_test(test_replaced_file_flagged),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_free_with_pending_jobs),
		cmocka_unit_test(test_manifest_uses_hashes),
	};
	return cmocka_run_group_tests(tests, tmpdir_make, tmpdir_remove);
}
