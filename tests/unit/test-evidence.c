/* test-evidence.c — evidence pcapng per finding (the proving packet plus the
 * cited flow's first packets, numbered across several input files), read
 * back by the project's reader and by tshark; manifest.json and verify
 * catching a changed and a missing file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/pcapng_writer.h"
#include "policy/findings.h"
#include "report/evidence.h"
#include "report/manifest.h"

#define CATALOGUE PA_SOURCE_DIR "/signatures/recipients.yaml"
#define LANXIN PA_SOURCE_DIR "/policies/lanxin.yaml"
#define T0 1700000000000000LL

static char workdir[] = "/tmp/test-evidence-XXXXXX";

/* Ethernet + IPv4 + TCP frame between 10.66.0.2:port and dst:80. */
static size_t frame(uint8_t *buf, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		    uint8_t flags, const char *payload)
{
	size_t plen = payload ? strlen(payload) : 0;
	memset(buf, 0, 54);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01\x8c\xbe\xbe\x4a\x21\x07\x08\x00", 14);
	uint8_t *ip = buf + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((40 + plen) >> 8);
	ip[3] = (uint8_t)(40 + plen);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	struct pa_addr a;
	assert_true(pa_addr_parse(src, &a));
	memcpy(ip + 12, a.bytes, 4);
	assert_true(pa_addr_parse(dst, &a));
	memcpy(ip + 16, a.bytes, 4);
	uint8_t *tcp = ip + 20;
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[12] = 0x50;
	tcp[13] = flags;
	if (plen)
		memcpy(tcp + 20, payload, plen);
	return 54 + plen;
}

static void put(struct pcapng_writer *w, int64_t ts, const uint8_t *buf, size_t len)
{
	struct capture_record rec = {.ts_us = ts, .caplen = (uint32_t)len, .wirelen = (uint32_t)len,
				     .linktype = PA_LINKTYPE_ETHERNET, .data = buf};
	assert_true(pcapng_writer_packet(w, &rec));
}

/*
 * a.pcapng: 1 unrelated, 2 SYN, 3 SYN/ACK, 4 unrelated
 * b.pcapng: 5 ACK, 6 POST with the IMEI, 7 reply, 8 FIN
 */
static void write_inputs(char *a, char *b)
{
	uint8_t buf[256];
	struct pcapng_writer w;
	struct pa_error err;
	const char *dev = "10.66.0.2", *srv = "198.51.100.7", *other = "203.0.113.1";
	assert_true(pcapng_writer_open(&w, a, "test", &err));
	put(&w, T0 + 0, buf, frame(buf, dev, other, 5353, 53, 0x18, "x"));
	put(&w, T0 + 1000, buf, frame(buf, dev, srv, 40001, 80, 0x02, NULL));
	put(&w, T0 + 81000, buf, frame(buf, srv, dev, 80, 40001, 0x12, NULL));
	put(&w, T0 + 81500, buf, frame(buf, dev, other, 5353, 53, 0x18, "y"));
	assert_true(pcapng_writer_close(&w));
	assert_true(pcapng_writer_open(&w, b, "test", &err));
	put(&w, T0 + 82000, buf, frame(buf, dev, srv, 40001, 80, 0x10, NULL));
	put(&w, T0 + 83000, buf, frame(buf, dev, srv, 40001, 80, 0x18,
				       "POST /r HTTP/1.1\r\nHost: register.xmpush.global.xiaomi.com\r\n\r\nimei=868034031518269"));
	put(&w, T0 + 160000, buf, frame(buf, srv, dev, 80, 40001, 0x18, "HTTP/1.1 200 OK\r\n\r\n"));
	put(&w, T0 + 170000, buf, frame(buf, dev, srv, 40001, 80, 0x11, NULL));
	assert_true(pcapng_writer_close(&w));
}

static struct findings *run_findings(struct policy **p, struct recipients **r)
{
	struct pa_diag diag = {.out = stderr};
	*p = policy_load(LANXIN, &diag);
	*r = recipients_load(CATALOGUE, &diag);
	assert_non_null(*p);
	assert_non_null(*r);
	struct findings_config cfg = {.consent_at_us = T0};
	struct pa_error err;
	struct findings *fs = findings_new(*p, *r, &cfg, &err);
	static struct geo_result g = {.country = "SG", .jurisdiction = "foreign:SG"};
	struct flow f;
	memset(&f, 0, sizeof f);
	f.id = 1;
	pa_addr_parse("10.66.0.2", &f.src);
	pa_addr_parse("198.51.100.7", &f.dst);
	f.sport = 40001;
	f.dport = 80;
	f.proto = IPPROTO_TCP;
	f.device_side = DEVICE_SIDE_SRC;
	f.first_packet = 2;
	f.ts_first = T0 + 1000;
	f.ts_syn = T0 + 1000;
	f.ts_synack = T0 + 81000;
	f.geo = &g;
	struct pa_observation o = {.type = "imei", .source = "device", .encoding = "raw",
				   .protocol = "http", .flow_id = 1, .packet = 6, .ts_us = T0 + 83000};
	snprintf(o.field, sizeof o.field, "http.form:imei");
	struct observation_record rec = {.obs = &o, .hostname = "register.xmpush.global.xiaomi.com",
					 .jurisdiction = "foreign:SG", .dst_ip = "198.51.100.7",
					 .dst_port = 80};
	findings_observation(fs, &rec, &f);
	findings_finish(fs);
	return fs;
}

/* Packet timestamps of a capture file, through the project's reader. */
static size_t read_back(const char *path, int64_t *ts, size_t max)
{
	struct pa_error err;
	struct capture_file *cf = capture_file_open(path, &err);
	assert_non_null(cf);
	struct capture_record rec;
	size_t n = 0;
	while (capture_file_next(cf, &rec, &err) == CAPTURE_RECORD) {
		assert_true(n < max);
		assert_int_equal(rec.linktype, PA_LINKTYPE_ETHERNET);
		ts[n++] = rec.ts_us;
	}
	capture_file_close(cf);
	return n;
}

static void test_evidence_and_manifest(void **state)
{
	assert_non_null(mkdtemp(workdir));
	char a[256], b[256], out[256];
	snprintf(a, sizeof a, "%s/a.pcapng", workdir);
	snprintf(b, sizeof b, "%s/b.pcapng", workdir);
	snprintf(out, sizeof out, "%s/out", workdir);
	assert_int_equal(mkdir(out, 0755), 0);
	write_inputs(a, b);

	struct policy *p;
	struct recipients *r;
	struct findings *fs = run_findings(&p, &r);
	/* residency (SG), encryption (http) */
	assert_int_equal(findings_count(fs), 2);

	char *inputs[] = {a, b};
	struct evidence_stats st;
	struct pa_error err = {{0}};
	assert_true(evidence_write(fs, inputs, 2, NULL, out, &st, &err));
	assert_int_equal(st.files, 2);
	assert_int_equal(st.missing, 0);
	/* Per finding: the flow up to the cited POST (SYN 2, SYN/ACK 3, ACK 5,
	 * POST 6) and its tail (reply 7, FIN 8), not the unrelated 1 and 4. */
	assert_int_equal(st.packets, 12);

	char ev[300];
	snprintf(ev, sizeof ev, "%s/evidence/F0001.pcapng", out);
	int64_t ts[16];
	size_t n = read_back(ev, ts, 16);
	assert_int_equal(n, 6);
	assert_int_equal(ts[0], T0 + 1000);
	assert_int_equal(ts[1], T0 + 81000);
	assert_int_equal(ts[2], T0 + 82000);
	assert_int_equal(ts[3], T0 + 83000);
	assert_int_equal(ts[4], T0 + 160000);
	assert_int_equal(ts[5], T0 + 170000);
	/* No temporary file left behind. */
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s/evidence/.F0001.pcapng.tmp", out);
	assert_int_not_equal(access(tmp, F_OK), 0);

	/* tshark reads it too, sees the IMEI request as packet 4, and each
	 * packet's comment names the finding, the original file and number. */
	if (access("/usr/bin/tshark", X_OK) == 0) {
		char cmd[600];
		snprintf(cmd, sizeof cmd,
			 "tshark -r %s -T fields -e frame.number -e http.request.method -e frame.comment 2>/dev/null", ev);
		FILE *t = popen(cmd, "r");
		assert_non_null(t);
		char line[1024], post[1024] = "", first[1024] = "";
		int lines = 0;
		while (fgets(line, sizeof line, t)) {
			if (!lines++)
				snprintf(first, sizeof first, "%s", line);
			if (strstr(line, "POST"))
				snprintf(post, sizeof post, "%s", line);
		}
		assert_int_equal(pclose(t), 0);
		assert_int_equal(lines, 6);
		char want[600];
		snprintf(want, sizeof want, "4\tPOST\tprivaudit F0001: packet cited by the finding; "
			 "original %s packet 2 (audit packet 6)\n", b);
		assert_string_equal(post, want);
		snprintf(want, sizeof want, "1\t\tprivaudit F0001: earlier packet of cited flow 1 "
			 "(handshake, records, segments); original %s packet 2 (audit packet 2)\n", a);
		assert_string_equal(first, want);
	}

	assert_true(findings_write_jsonl(fs, out, &err));
	struct manifest_entry entries[] = {
		{.role = "capture", .path = a},
		{.role = "capture", .path = b},
		{.role = "policy", .path = LANXIN},
		{.role = "recipients", .path = CATALOGUE},
	};
	assert_true(manifest_write(out, entries, 4, "privaudit audit --out x a.pcapng b.pcapng", &err));
	char manifest[300];
	snprintf(manifest, sizeof manifest, "%s/manifest.json", out);
	json_error_t je;
	json_t *m = json_load_file(manifest, 0, &je);
	assert_non_null(m);
	json_t *files = json_object_get(m, "files");
	/* 2 captures, policy, catalogue, 2 evidence files, findings.jsonl */
	assert_int_equal(json_array_size(files), 7);
	assert_string_equal(json_string_value(json_object_get(json_array_get(files, 4), "path")),
			    "evidence/F0001.pcapng");
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(files, 0), "sha256"))), 64);
	assert_string_equal(json_string_value(json_object_get(m, "command_line")),
			    "privaudit audit --out x a.pcapng b.pcapng");
	json_decref(m);

	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(evidence_verify(out, devnull), 0);

	/* An unlisted extra evidence file is reported but not fatal. */
	char extra[300];
	snprintf(extra, sizeof extra, "%s/evidence/extra.pcapng", out);
	FILE *x = fopen(extra, "w");
	fputs("x", x);
	fclose(x);
	assert_int_equal(evidence_verify(out, devnull), 0);
	unlink(extra);

	/* One changed byte in an evidence file. */
	FILE *e = fopen(ev, "r+b");
	assert_non_null(e);
	fseek(e, -5, SEEK_END);
	fputc('!', e);
	fclose(e);
	char report[4096];
	FILE *mem = fmemopen(report, sizeof report, "w");
	assert_int_equal(evidence_verify(out, mem), 1);
	fclose(mem);
	assert_non_null(strstr(report, "CHANGED  evidence/F0001.pcapng"));
	assert_non_null(strstr(report, "1 changed, 0 missing"));

	/* A missing input capture. */
	unlink(b);
	mem = fmemopen(report, sizeof report, "w");
	assert_int_equal(evidence_verify(out, mem), 1);
	fclose(mem);
	assert_non_null(strstr(report, "MISSING  "));
	assert_non_null(strstr(report, "1 missing"));

	/* No manifest at all. */
	unlink(manifest);
	assert_int_equal(evidence_verify(out, devnull), 1);
	fclose(devnull);

	findings_free(fs);
	policy_free(p);
	recipients_free(r);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", workdir);
	assert_int_equal(system(cmd), 0);
}

static void test_no_findings_empty_evidence_folder(void **state)
{
	char dir[] = "/tmp/test-evidence-empty-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct findings_config cfg = {0};
	struct pa_error err;
	struct findings *fs = findings_new(NULL, NULL, &cfg, &err);
	findings_finish(fs);
	struct evidence_stats st;
	assert_true(evidence_write(fs, NULL, 0, NULL, dir, &st, &err));
	assert_int_equal(st.files, 0);
	char ev[300];
	snprintf(ev, sizeof ev, "%s/evidence", dir);
	assert_int_equal(access(ev, F_OK), 0);
	assert_true(manifest_write(dir, NULL, 0, NULL, &err));
	FILE *devnull = fopen("/dev/null", "w");
	assert_int_equal(evidence_verify(dir, devnull), 0);
	fclose(devnull);
	findings_free(fs);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A ns timestamp survives writer and reader; a record made with only ts_us
 * is written as that µs value, not as 0. */
static void test_nanosecond_timestamps(void **state)
{
	char dir[] = "/tmp/test-evidence-ns-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[300];
	snprintf(path, sizeof path, "%s/ns.pcapng", dir);
	uint8_t buf[128];
	size_t len = frame(buf, "10.66.0.2", "198.51.100.7", 40001, 80, 0x02, NULL);
	struct pcapng_writer w;
	struct pa_error err;
	assert_true(pcapng_writer_open(&w, path, "test", &err));
	struct capture_record rec = {.ts_us = T0 + 1, .ts_ns = (T0 + 1) * 1000 + 789, .caplen = (uint32_t)len,
				     .wirelen = (uint32_t)len, .linktype = PA_LINKTYPE_ETHERNET, .data = buf};
	assert_true(pcapng_writer_packet(&w, &rec));
	rec.ts_ns = 0; /* only µs known */
	rec.ts_us = T0 + 2;
	assert_true(pcapng_writer_packet_comment(&w, &rec, "a comment"));
	assert_true(pcapng_writer_close(&w));

	struct capture_file *cf = capture_file_open(path, &err);
	assert_non_null(cf);
	assert_int_equal(capture_file_next(cf, &rec, &err), CAPTURE_RECORD);
	assert_int_equal(rec.ts_ns, (T0 + 1) * 1000 + 789);
	assert_int_equal(rec.ts_us, T0 + 1);
	assert_int_equal(capture_file_next(cf, &rec, &err), CAPTURE_RECORD);
	assert_int_equal(rec.ts_ns, (T0 + 2) * 1000);
	assert_int_equal(rec.caplen, len);
	assert_int_equal(capture_file_next(cf, &rec, &err), CAPTURE_EOF);
	capture_file_close(cf);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nanosecond_timestamps),
		cmocka_unit_test(test_evidence_and_manifest),
		cmocka_unit_test(test_no_findings_empty_evidence_folder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
