/*
 * test-ring.c — the live evidence ring: files read back packet for packet,
 * rotation by size and on request, the manifest's hashes and packet numbers,
 * and a file that hits its size limit (RLIMIT_FSIZE stands in for a full
 * disk: the same short write and error) keeps only complete blocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/ring.h"
#include "util/sha256.h"

#include "test-tmpdir.h"

static uint32_t fixed_len; /* when set, every packet has this size */

/* Packet i: i % 7 + 60 bytes (odd sizes test the padding), bytes derived from i;
 * odd packets carry a ns timestamp (as live capture gives), even ones only µs. */
static void make_packet(uint64_t i, uint8_t *buf, struct capture_record *rec)
{
	uint32_t len = fixed_len ? fixed_len : (uint32_t)(60 + i % 7 * 111);
	for (uint32_t k = 0; k < len; k++)
		buf[k] = (uint8_t)(i * 31 + k);
	int64_t us = 1700000000000000LL + (int64_t)i * 1000;
	*rec = (struct capture_record){.ts_us = us, .ts_ns = i % 2 ? us * 1000 + (int64_t)(i % 997) : 0,
				       .caplen = len, .wirelen = len + 4, .linktype = i % 10 == 9 ? 101 : 1,
				       .data = buf};
}

/* Reads every ring file in order; checks each packet against make_packet. */
static uint64_t read_back(unsigned files, uint64_t first, enum capture_status *last_status)
{
	uint64_t i = first;
	uint8_t want[1024];
	for (unsigned seq = 1; seq <= files; seq++) {
		char path[400];
		ring_file_path(tmpdir, seq, path, sizeof path);
		struct pa_error err;
		struct capture_file *cf = capture_file_open(path, &err);
		assert_non_null(cf);
		struct capture_record rec, exp;
		enum capture_status st;
		while ((st = capture_file_next(cf, &rec, &err)) == CAPTURE_RECORD) {
			make_packet(i, want, &exp);
			assert_int_equal(rec.caplen, exp.caplen);
			assert_int_equal(rec.wirelen, exp.wirelen);
			assert_int_equal(rec.linktype, exp.linktype);
			assert_true(rec.ts_us == exp.ts_us);
			assert_true(rec.ts_ns == capture_record_ns(&exp)); /* kept to the ns */
			assert_memory_equal(rec.data, want, exp.caplen);
			i++;
		}
		*last_status = st;
		capture_file_close(cf);
	}
	return i - first;
}

static json_t *manifest_lines(void)
{
	char path[400];
	snprintf(path, sizeof path, "%s/manifest.jsonl", tmpdir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	json_t *lines = json_array();
	char line[2048];
	while (fgets(line, sizeof line, f)) {
		json_t *j = json_loads(line, 0, NULL);
		assert_non_null(j);
		json_array_append_new(lines, j);
	}
	fclose(f);
	return lines;
}

static void test_rotation_and_manifest(void **state)
{
	(void)state;
	struct pa_error err;
	struct ring_config cfg = {.dir = tmpdir, .max_bytes = 20000};
	struct ring *r = ring_open(&cfg, &err);
	assert_non_null(r);
	uint8_t buf[1024];
	struct capture_record rec;
	for (uint64_t i = 0; i < 300; i++) {
		make_packet(i, buf, &rec);
		assert_true(ring_packet(r, &rec));
		if (i % 40 == 0)
			ring_flush(r); /* as after a capture batch */
		if (i == 150)
			ring_rotate(r); /* SIGHUP */
	}
	struct ring_stats st;
	ring_close(r, &st);
	assert_int_equal(st.packets_offered, 300);
	assert_int_equal(st.packets_written, 300);
	assert_int_equal(st.packets_lost, 0);
	assert_true(st.files_opened >= 5);
	assert_int_equal(st.files_closed, st.files_opened);

	enum capture_status last;
	assert_int_equal(read_back(st.files_opened, 0, &last), 300);
	assert_int_equal(last, CAPTURE_EOF);

	json_t *lines = manifest_lines();
	assert_int_equal(json_array_size(lines), st.files_opened);
	uint64_t next_number = 1;
	for (unsigned seq = 1; seq <= st.files_opened; seq++) {
		json_t *m = json_array_get(lines, seq - 1);
		char path[400], hex[PA_SHA256_HEX], name[40];
		uint64_t size;
		ring_file_path(tmpdir, seq, path, sizeof path);
		snprintf(name, sizeof name, "capture-%06u.pcapng", seq);
		assert_string_equal(json_string_value(json_object_get(m, "file")), name);
		assert_true(pa_sha256_file(path, hex, &size, &err));
		assert_string_equal(json_string_value(json_object_get(m, "sha256")), hex);
		assert_int_equal(json_integer_value(json_object_get(m, "bytes")), size);
		/* Numbers follow on from file to file: nothing lost, nothing twice. */
		json_t *numbers = json_object_get(m, "packet_numbers");
		uint64_t first = (uint64_t)json_integer_value(json_array_get(numbers, 0));
		uint64_t lastn = (uint64_t)json_integer_value(json_array_get(numbers, 1));
		assert_int_equal(first, next_number);
		assert_int_equal(json_integer_value(json_object_get(m, "packets")), lastn - first + 1);
		next_number = lastn + 1;
		if (seq > 1 && seq < st.files_opened && lastn != 151)
			assert_true(size >= 20000); /* rotated by size, except the SIGHUP one */
	}
	assert_int_equal(next_number, 301);
	json_decref(lines);
}

static void test_full_file_keeps_complete_blocks(void **state)
{
	(void)state;
	struct pa_error err;
	struct ring_config cfg = {.dir = tmpdir};
	struct ring *r = ring_open(&cfg, &err);
	assert_non_null(r);
	struct rlimit old, small;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 10000;
	signal(SIGXFSZ, SIG_IGN); /* the write fails with EFBIG instead */
	fixed_len = 500;          /* so the packets that fit are the first ones */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	uint8_t buf[1024];
	struct capture_record rec;
	for (uint64_t i = 0; i < 100; i++) {
		make_packet(i, buf, &rec);
		assert_true(ring_packet(r, &rec)); /* buffered */
	}
	ring_flush(r); /* one write, cut short by the limit */
	const struct ring_stats *live = ring_stats(r);
	uint64_t written = live->packets_written;
	assert_int_equal(live->packets_lost, 100 - written);
	assert_true(written > 5 && written < 100);
	assert_true(strstr(live->last_error, "File too large") != NULL);
	assert_int_equal(live->lost_first_number, written + 1);
	assert_int_equal(live->lost_last_number, 100);

	/* The current file, read while the ring still runs, ends cleanly. */
	char path[400];
	ring_file_path(tmpdir, 1, path, sizeof path);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size <= 10000);
	enum capture_status last;
	assert_int_equal(read_back(1, 0, &last), written);
	assert_int_equal(last, CAPTURE_EOF);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	fixed_len = 0;
	struct ring_stats st;
	ring_close(r, &st);
	char text[512];
	ring_loss_text(&st, text, sizeof text);
	char want[64];
	snprintf(want, sizeof want, "%llu packet(s) not written", (unsigned long long)(100 - written));
	assert_non_null(strstr(text, want));
	json_t *lines = manifest_lines();
	json_t *m = json_array_get(lines, 0);
	assert_int_equal(json_integer_value(json_object_get(m, "packets")), written);
	assert_int_equal(json_integer_value(json_object_get(m, "packets_lost")), 100 - written);
	char hex[PA_SHA256_HEX];
	uint64_t size;
	assert_true(pa_sha256_file(path, hex, &size, &err));
	assert_string_equal(json_string_value(json_object_get(m, "sha256")), hex);
	json_decref(lines);
}

static void test_max_files(void **state)
{
	(void)state;
	struct pa_error err;
	struct ring_config cfg = {.dir = tmpdir, .max_bytes = 5000, .max_files = 2};
	struct ring *r = ring_open(&cfg, &err);
	assert_non_null(r);
	uint8_t buf[1024];
	struct capture_record rec;
	for (uint64_t i = 0; i < 100; i++) {
		make_packet(i, buf, &rec);
		assert_true(ring_packet(r, &rec));
	}
	struct ring_stats st;
	ring_close(r, &st);
	assert_int_equal(st.files_deleted, st.files_opened - 2);
	char path[400];
	for (unsigned seq = 1; seq <= st.files_opened; seq++) {
		ring_file_path(tmpdir, seq, path, sizeof path);
		assert_int_equal(access(path, F_OK) == 0, seq + 2 > st.files_opened);
	}
}

static void test_unwritable_folder_refused(void **state)
{
	(void)state;
	struct pa_error err;
	struct ring_config cfg = {.dir = "/proc/privaudit-no"};
	assert_null(ring_open(&cfg, &err));
	assert_non_null(strstr(err.msg, "/proc/privaudit-no"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rotation_and_manifest, tmpdir_make, tmpdir_remove),
		cmocka_unit_test_setup_teardown(test_full_file_keeps_complete_blocks, tmpdir_make, tmpdir_remove),
		cmocka_unit_test_setup_teardown(test_max_files, tmpdir_make, tmpdir_remove),
		cmocka_unit_test(test_unwritable_folder_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
