/*
 * test-capture.c — the pcap/pcapng reader: formats and byte orders, several
 * interfaces and sections, timestamp resolutions, secrets blocks, cut-off and
 * damaged files, and the ordering of input files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"

#define TWOVLAN PA_SHARED_CAPTURES "/arkime_twovlan.pcap"

static uint8_t *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Reads every record; returns how the file ended. */
static enum capture_status read_all(struct capture_file *cf, struct capture_record *recs,
				    size_t max, size_t *n, struct pa_error *err)
{
	enum capture_status st;
	struct capture_record rec;
	*n = 0;
	while ((st = capture_file_next(cf, &rec, err)) == CAPTURE_RECORD) {
		if (*n < max)
			recs[*n] = rec;
		(*n)++;
	}
	return st;
}

static const uint32_t twovlan_caplen[6] = { 82, 82, 74, 187, 74, 4418 };
static const uint64_t twovlan_offset[6] = { 24, 122, 220, 310, 513, 603 };

static void pcap_microseconds(void **state)
{
	(void)state;
	struct pa_error err = { { 0 } };
	struct capture_file *cf = capture_file_open(TWOVLAN, &err);
	assert_non_null(cf);
	assert_string_equal(capture_file_format(cf), "pcap");
	assert_string_equal(capture_file_path(cf), TWOVLAN);
	struct capture_record r[8];
	size_t n;
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_EOF);
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(r[i].caplen, twovlan_caplen[i]);
		assert_int_equal(r[i].wirelen, twovlan_caplen[i]);
		assert_int_equal(r[i].offset, twovlan_offset[i]);
		assert_int_equal(r[i].linktype, PA_LINKTYPE_ETHERNET);
	}
	assert_int_equal(r[0].ts_us, 1456042921641303LL);
	assert_int_equal(r[5].ts_us, 1456042921761641LL);
	/* after the end, it stays at the end */
	assert_int_equal(capture_file_next(cf, &r[0], &err), CAPTURE_EOF);
	capture_file_close(cf);
}

/* editcap -F nsecpcap of the same file: same records, ns magic. */
static void pcap_nanoseconds(void **state)
{
	(void)state;
	struct pa_error err = { { 0 } };
	struct capture_file *cf = capture_file_open(PA_TEST_DATA "/captures/twovlan-ns.pcap", &err);
	assert_non_null(cf);
	assert_string_equal(capture_file_format(cf), "pcap-ns");
	struct capture_record r[8];
	size_t n;
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_EOF);
	assert_int_equal(n, 6);
	assert_int_equal(r[0].ts_us, 1456042921641303LL);
	assert_int_equal(r[5].ts_us, 1456042921761641LL);
	assert_int_equal(r[5].caplen, 4418);
	capture_file_close(cf);
}

static void pcap_big_endian(void **state)
{
	(void)state;
	struct pa_error err = { { 0 } };
	struct capture_file *cf = capture_file_open(PA_SHARED_CAPTURES "/ndpi_nfsv2.pcap", &err);
	assert_non_null(cf);
	struct capture_record r[1];
	size_t n;
	assert_int_equal(read_all(cf, r, 1, &n, &err), CAPTURE_EOF);
	assert_int_equal(n, 156); /* capinfos -c */
	assert_int_equal(r[0].ts_us, 944207338400000LL);
	assert_int_equal(r[0].caplen, 106);
	capture_file_close(cf);
}

/* mergecap of 5 Linux-cooked packets and 6 Ethernet ones (README there). */
static void pcapng_two_link_types(void **state)
{
	(void)state;
	struct pa_error err = { { 0 } };
	struct capture_file *cf =
		capture_file_open(PA_TEST_DATA "/captures/two-linktypes.pcapng", &err);
	assert_non_null(cf);
	assert_string_equal(capture_file_format(cf), "pcapng");
	struct capture_record r[16];
	size_t n;
	assert_int_equal(read_all(cf, r, 16, &n, &err), CAPTURE_EOF);
	assert_int_equal(n, 11);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(r[i].interface_id, 0);
		assert_int_equal(r[i].linktype, PA_LINKTYPE_LINUX_SLL);
	}
	for (int i = 5; i < 11; i++) {
		assert_int_equal(r[i].interface_id, 1);
		assert_int_equal(r[i].linktype, PA_LINKTYPE_ETHERNET);
		assert_int_equal(r[i].caplen, twovlan_caplen[i - 5]);
	}
	assert_int_equal(r[0].ts_us, 1430069021959113LL);
	assert_int_equal(r[10].ts_us, 1456042921761641LL);
	capture_file_close(cf);
}

struct secrets_seen {
	int calls;
	uint32_t type;
	size_t len;
	char start[16];
};

static void on_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
	struct secrets_seen *s = ctx;
	s->calls++;
	s->type = type;
	s->len = len;
	memcpy(s->start, data, len < 13 ? len : 13);
}

/* editcap --inject-secrets tls,keys.txt: one Decryption Secrets Block. */
static void pcapng_secrets(void **state)
{
	(void)state;
	struct pa_error err = { { 0 } };
	struct capture_file *cf =
		capture_file_open(PA_TEST_DATA "/captures/with-secrets.pcapng", &err);
	assert_non_null(cf);
	struct secrets_seen seen = { 0 };
	capture_file_on_secrets(cf, on_secrets, &seen);
	struct capture_record r[4];
	size_t n;
	assert_int_equal(read_all(cf, r, 4, &n, &err), CAPTURE_EOF);
	assert_int_equal(n, 3);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.type, 0x544c534b);
	assert_int_equal(seen.len, 176);
	assert_string_equal(seen.start, "CLIENT_RANDOM");
	capture_file_close(cf);
}

/* ---- hand-built pcapng ------------------------------------------------- */

struct builder {
	uint8_t buf[4096];
	size_t len;
	bool big;
};

static void put16(struct builder *b, uint16_t v)
{
	if (b->big) {
		b->buf[b->len++] = (uint8_t)(v >> 8);
		b->buf[b->len++] = (uint8_t)v;
	} else {
		b->buf[b->len++] = (uint8_t)v;
		b->buf[b->len++] = (uint8_t)(v >> 8);
	}
}

static void put32(struct builder *b, uint32_t v)
{
	if (b->big) {
		put16(b, (uint16_t)(v >> 16));
		put16(b, (uint16_t)v);
	} else {
		put16(b, (uint16_t)v);
		put16(b, (uint16_t)(v >> 16));
	}
}

static void put_bytes(struct builder *b, const void *p, size_t n)
{
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	while (b->len % 4)
		b->buf[b->len++] = 0;
}

static size_t block_start(struct builder *b, uint32_t type)
{
	size_t at = b->len;
	put32(b, type);
	put32(b, 0); /* length, patched by block_end */
	return at;
}

static void block_end(struct builder *b, size_t at)
{
	uint32_t total = (uint32_t)(b->len - at + 4);
	size_t save = b->len;
	b->len = at + 4;
	put32(b, total);
	b->len = save;
	put32(b, total);
}

static void section(struct builder *b, bool big)
{
	b->big = big;
	size_t at = block_start(b, 0x0a0d0d0a);
	put32(b, 0x1a2b3c4d);
	put16(b, 1);
	put16(b, 0);
	put32(b, 0xffffffff);
	put32(b, 0xffffffff);
	block_end(b, at);
}

static void interface(struct builder *b, uint16_t linktype, int tsresol, int64_t tsoffset)
{
	size_t at = block_start(b, 1);
	put16(b, linktype);
	put16(b, 0);
	put32(b, 65535);
	if (tsresol >= 0) {
		put16(b, 9);
		put16(b, 1);
		uint8_t v = (uint8_t)tsresol;
		put_bytes(b, &v, 1);
	}
	if (tsoffset) {
		put16(b, 14);
		put16(b, 8);
		uint64_t o = (uint64_t)tsoffset;
		if (b->big) {
			put32(b, (uint32_t)(o >> 32));
			put32(b, (uint32_t)o);
		} else {
			put32(b, (uint32_t)o);
			put32(b, (uint32_t)(o >> 32));
		}
	}
	put16(b, 0);
	put16(b, 0);
	block_end(b, at);
}

static void enhanced_packet(struct builder *b, uint32_t ifid, uint64_t ts, const char *data)
{
	size_t at = block_start(b, 6);
	put32(b, ifid);
	put32(b, (uint32_t)(ts >> 32));
	put32(b, (uint32_t)ts);
	put32(b, (uint32_t)strlen(data));
	put32(b, (uint32_t)strlen(data) + 100);
	put_bytes(b, data, strlen(data));
	block_end(b, at);
}

static void build_sample(struct builder *b)
{
	memset(b, 0, sizeof *b);
	/* section 1: big-endian, one interface at 2^-20 s with an offset */
	section(b, true);
	interface(b, PA_LINKTYPE_RAW, 0x80 | 20, 1000);
	enhanced_packet(b, 0, 3ull << 20 | 1u << 19, "abcde"); /* 3.5 s */
	size_t at = block_start(b, 3); /* simple packet: interface 0, no timestamp */
	put32(b, 3);
	put_bytes(b, "xyz", 3);
	block_end(b, at);
	at = block_start(b, 0x0bad); /* unknown: skipped */
	put32(b, 42);
	block_end(b, at);
	/* section 2: little-endian, interfaces restart; ns and default µs */
	section(b, false);
	interface(b, PA_LINKTYPE_ETHERNET, 9, 0);
	interface(b, PA_LINKTYPE_LINUX_SLL, -1, 0);
	enhanced_packet(b, 1, 1700000000123456ull, "sll");
	at = block_start(b, 2); /* obsolete Packet Block: 16-bit interface id */
	put16(b, 0);
	put16(b, 0);
	put32(b, (uint32_t)(1700000000123456789ull >> 32));
	put32(b, (uint32_t)1700000000123456789ull);
	put32(b, 2);
	put32(b, 2);
	put_bytes(b, "pb", 2);
	block_end(b, at);
}

static void pcapng_hand_built(void **state)
{
	(void)state;
	struct builder b;
	build_sample(&b);
	struct pa_error err = { { 0 } };
	struct capture_file *cf = capture_file_open_memory(b.buf, b.len, "sample", &err);
	assert_non_null(cf);
	struct capture_record r[8];
	size_t n;
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_EOF);
	assert_int_equal(n, 4);

	assert_int_equal(r[0].linktype, PA_LINKTYPE_RAW);
	assert_int_equal(r[0].ts_us, 1003500000LL);
	assert_int_equal(r[0].caplen, 5);
	assert_int_equal(r[0].wirelen, 105);
	assert_memory_equal(r[0].data, "abcde", 5);

	assert_int_equal(r[1].caplen, 3);
	assert_int_equal(r[1].ts_us, 1003500000LL); /* carries the last timestamp */
	assert_memory_equal(r[1].data, "xyz", 3);

	assert_int_equal(r[2].interface_id, 1);
	assert_int_equal(r[2].linktype, PA_LINKTYPE_LINUX_SLL);
	assert_int_equal(r[2].ts_us, 1700000000123456LL);

	assert_int_equal(r[3].interface_id, 0);
	assert_int_equal(r[3].linktype, PA_LINKTYPE_ETHERNET);
	assert_int_equal(r[3].ts_us, 1700000000123456LL);
	assert_memory_equal(r[3].data, "pb", 2);
	capture_file_close(cf);
}

/* ---- cut off and damaged ------------------------------------------------ */

static void pcap_cut_mid_record(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = load(TWOVLAN, &len);
	struct pa_error err = { { 0 } };
	struct capture_record r[8];
	size_t n;

	/* inside the last record's data */
	struct capture_file *cf = capture_file_open_memory(buf, 603 + 100, "cut.pcap", &err);
	assert_non_null(cf);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_TRUNCATED);
	assert_int_equal(n, 5);
	assert_string_equal(err.msg,
			    "cut.pcap: last record cut off at byte offset 603 (100 of 4434 bytes present)");
	capture_file_close(cf);

	/* inside a record header */
	cf = capture_file_open_memory(buf, 513 + 10, "cut.pcap", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_TRUNCATED);
	assert_int_equal(n, 4);
	assert_string_equal(err.msg,
			    "cut.pcap: last record cut off at byte offset 513 (10 of 16 bytes present)");
	capture_file_close(cf);

	/* a file header only: a clean, empty capture; less is not a capture */
	cf = capture_file_open_memory(buf, 24, "hdr.pcap", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_EOF);
	assert_int_equal(n, 0);
	capture_file_close(cf);
	assert_null(capture_file_open_memory(buf, 20, "short.pcap", &err));
	assert_string_equal(err.msg, "short.pcap: pcap file header cut off (20 of 24 bytes present)");

	/* the same through the file reader */
	char path[] = "/tmp/test-capture-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, 703), 703);
	close(fd);
	cf = capture_file_open(path, &err);
	assert_non_null(cf);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_TRUNCATED);
	assert_int_equal(n, 5);
	assert_non_null(strstr(err.msg, "byte offset 603 (100 of 4434 bytes present)"));
	capture_file_close(cf);
	unlink(path);
	free(buf);
}

static void pcap_damaged(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = load(TWOVLAN, &len);
	/* record 3's caplen (at 220 + 8) becomes impossible */
	buf[220 + 8] = 0xff;
	buf[220 + 9] = 0xff;
	buf[220 + 10] = 0xff;
	buf[220 + 11] = 0x7f;
	struct pa_error err = { { 0 } };
	struct capture_file *cf = capture_file_open_memory(buf, len, "bad.pcap", &err);
	struct capture_record r[8];
	size_t n;
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_ERROR);
	assert_int_equal(n, 2);
	assert_string_equal(err.msg,
			    "bad.pcap: damaged at byte offset 220: impossible record length 2147483647");
	capture_file_close(cf);

	buf[0] = 'X';
	assert_null(capture_file_open_memory(buf, len, "bad.pcap", &err));
	assert_string_equal(err.msg, "bad.pcap: not a pcap or pcapng file");
	free(buf);
}

static void pcapng_cut_and_damaged(void **state)
{
	(void)state;
	struct builder b;
	build_sample(&b);
	struct pa_error err = { { 0 } };
	struct capture_record r[8];
	size_t n;

	/* cut 20 bytes into the last block (the 36-byte Packet Block) */
	size_t last = b.len - 36;
	struct capture_file *cf = capture_file_open_memory(b.buf, b.len - 16, "cut.pcapng", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_TRUNCATED);
	assert_int_equal(n, 3);
	char want[160];
	snprintf(want, sizeof want,
		 "cut.pcapng: last record cut off at byte offset %zu (20 of 36 bytes present)", last);
	capture_file_close(cf);

	/* too little left to even read a block's length */
	cf = capture_file_open_memory(b.buf, last + 6, "cut.pcapng", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_TRUNCATED);
	assert_int_equal(n, 3);
	snprintf(want, sizeof want,
		 "cut.pcapng: last record cut off at byte offset %zu (6 of 12 bytes present)", last);
	assert_string_equal(err.msg, want);
	assert_string_equal(err.msg, want);
	capture_file_close(cf);

	/* an impossible block length in the middle (the little-endian EPB) */
	struct builder d = b;
	size_t epb = last - 36; /* EPB of "sll": 28 + 4 data + 4 trailer */
	assert_int_equal(d.buf[epb], 6);
	d.buf[epb + 4] = 7;
	cf = capture_file_open_memory(d.buf, d.len, "bad.pcapng", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_ERROR);
	assert_int_equal(n, 2);
	snprintf(want, sizeof want,
		 "bad.pcapng: damaged at byte offset %zu: impossible block length 7", epb);
	assert_string_equal(err.msg, want);
	capture_file_close(cf);

	/* a trailer that disagrees */
	d = b;
	d.buf[last - 4] = 0x99;
	cf = capture_file_open_memory(d.buf, d.len, "bad.pcapng", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_ERROR);
	assert_int_equal(n, 2);
	assert_non_null(strstr(err.msg, "trailing length"));
	capture_file_close(cf);

	/* a second section header with a bad byte-order magic */
	d = b;
	size_t shb2 = 0;
	for (size_t i = 4; i + 4 <= d.len; i += 4)
		if (!memcmp(d.buf + i, "\x0a\x0d\x0d\x0a", 4))
			shb2 = i;
	assert_true(shb2 > 0);
	d.buf[shb2 + 8] = 0;
	cf = capture_file_open_memory(d.buf, d.len, "bad.pcapng", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_ERROR);
	assert_int_equal(n, 2);
	snprintf(want, sizeof want, "bad.pcapng: damaged at byte offset %zu:", shb2);
	assert_memory_equal(err.msg, want, strlen(want));
	capture_file_close(cf);

	/* a packet naming an interface that does not exist */
	d = b;
	d.buf[epb + 8] = 5;
	cf = capture_file_open_memory(d.buf, d.len, "bad.pcapng", &err);
	assert_int_equal(read_all(cf, r, 8, &n, &err), CAPTURE_ERROR);
	assert_int_equal(n, 2);
	assert_non_null(strstr(err.msg, "names interface 5 but the section defines 2"));
	capture_file_close(cf);
}

static void open_errors(void **state)
{
	(void)state;
	struct pa_error err = { { 0 } };
	assert_null(capture_file_open("/nonexistent/x.pcap", &err));
	assert_string_equal(err.msg, "/nonexistent/x.pcap: No such file or directory");
	assert_null(capture_file_open(PA_TEST_DATA "/captures/README.md", &err));
	assert_string_equal(err.msg, PA_TEST_DATA "/captures/README.md: not a pcap or pcapng file");
	assert_null(capture_file_open(PA_TEST_DATA "/captures", &err));
	assert_string_equal(err.msg, PA_TEST_DATA "/captures: Is a directory");
	assert_null(capture_file_open_memory((const uint8_t *)"", 0, "empty", &err));
	assert_string_equal(err.msg, "empty: not a pcap or pcapng file (0 bytes long)");
}

/* ---- input lists ---------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
	size_t len;
	uint8_t *buf = load(from, &len);
	FILE *f = fopen(to, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	free(buf);
}

static void inputs_ordered_by_first_timestamp(void **state)
{
	(void)state;
	char dir[] = "/tmp/test-capture-dir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char a[128], b[128], c[128], note[128], solo[128];
	/* a.pcap starts in 2016, b.pcapng in 2015: b comes first despite its name */
	snprintf(a, sizeof a, "%s/a.pcap", dir);
	snprintf(b, sizeof b, "%s/b.pcapng", dir);
	snprintf(c, sizeof c, "%s/c.pcap", dir);
	snprintf(note, sizeof note, "%s/notes.txt", dir);
	copy_file(TWOVLAN, a);
	copy_file(PA_TEST_DATA "/captures/two-linktypes.pcapng", b);
	copy_file(TWOVLAN, c); /* same first timestamp as a: by name */
	copy_file(PA_TEST_DATA "/captures/README.md", note);
	snprintf(solo, sizeof solo, "%s/ns.pcap", dir);
	copy_file(PA_TEST_DATA "/captures/twovlan-ns.pcap", solo);
	char sub[128];
	snprintf(sub, sizeof sub, "%s/sub", dir);
	mkdir(sub, 0700);

	struct capture_inputs in;
	struct pa_error err = { { 0 } };
	char *args[] = { dir };
	assert_true(capture_inputs_collect(&in, args, 1, &err));
	assert_int_equal(in.count, 4);
	assert_string_equal(in.paths[0], b);
	assert_string_equal(in.paths[1], a);
	assert_string_equal(in.paths[2], c);
	assert_string_equal(in.paths[3], solo);
	capture_inputs_free(&in);

	char missing[160];
	snprintf(missing, sizeof missing, "%s/missing.pcap", dir);
	char *bad_args[] = { a, missing };
	assert_false(capture_inputs_collect(&in, bad_args, 2, &err));
	char want[200];
	snprintf(want, sizeof want, "%s: No such file or directory", missing);
	assert_string_equal(err.msg, want);

	char *sub_args[] = { sub };
	assert_false(capture_inputs_collect(&in, sub_args, 1, &err));
	assert_non_null(strstr(err.msg, "holds no pcap or pcapng files"));

	unlink(a);
	unlink(b);
	unlink(c);
	unlink(note);
	unlink(solo);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcap_microseconds),
		cmocka_unit_test(pcap_nanoseconds),
		cmocka_unit_test(pcap_big_endian),
		cmocka_unit_test(pcapng_two_link_types),
		cmocka_unit_test(pcapng_secrets),
		cmocka_unit_test(pcapng_hand_built),
		cmocka_unit_test(pcap_cut_mid_record),
		cmocka_unit_test(pcap_damaged),
		cmocka_unit_test(pcapng_cut_and_damaged),
		cmocka_unit_test(open_errors),
		cmocka_unit_test(inputs_ordered_by_first_timestamp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
