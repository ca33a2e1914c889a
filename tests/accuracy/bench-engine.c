/*
 * bench-engine.c — throughput of the signature engine alone (docs/accuracy.md):
 * bench-engine SIGNATURE_DIR DEVICE_PROFILE|- SIZE_MB. Build against a Release
 * privaudit_core; reports CPU-time MB/s for a raw stream and for 512-byte fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "detect/detect.h"

static size_t hits;
static void sink(void *ctx, const struct pa_observation *o) { hits++; }
static double now(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv)
{
	size_t size = (size_t)atoi(argv[3]) << 20;
	struct pa_diag diag = { .out = stderr };
	struct detect_engine *e = detect_engine_load(argv[1], strcmp(argv[2], "-") ? argv[2] : NULL, &diag);
	if (!e) return 1;
	struct detect_scratch *sc = detect_scratch_alloc(e);
	char *buf = malloc(size);
	unsigned r = 12345;
	static const char *keys[] = { "uid", "ts", "ver", "model", "channel", "token", "session", "lang", "net", "sdk" };
	size_t o = 0;
	while (o + 200 < size) {
		o += (size_t)sprintf(buf + o, "POST /api/v%u/log HTTP/1.1\r\nHost: api%u.example.com\r\nContent-Type: application/json\r\n\r\n{", r % 9, r % 97);
		for (int k = 0; k < 8 && o + 100 < size; k++) {
			r = r * 1103515245 + 12345;
			o += (size_t)sprintf(buf + o, "\"%s\":\"%08x%08x\",\"n%d\":%u,", keys[r % 10], r, r * 7u, k, r % 100000);
		}
		buf[o++] = '}';
	}
	size = o;
	struct pa_field_ref ref = { "raw-tcp", "tcp.payload", PA_DIR_FROM_SRC, 0, 0 };
	double t0 = now();
	struct detect_stream *s = detect_stream_open(e, &ref, true);
	for (size_t at = 0; at < size; at += 1448)
		detect_stream_scan(s, sc, (const uint8_t *)buf + at, size - at < 1448 ? size - at : 1448, at / 1448 + 1, 0, sink, NULL);
	detect_stream_close(s, sc, sink, NULL);
	double t1 = now();
	struct pa_field_ref fref = { "http", "http.body.json:device.token", PA_DIR_FROM_SRC, 1, 0 };
	for (size_t at = 0; at < size; at += 512)
		detect_scan_field(e, sc, &fref, true, (const uint8_t *)buf + at, size - at < 512 ? size - at : 512, sink, NULL);
	double t2 = now();
	struct detect_engine_info info;
	detect_engine_get_info(e, &info);
	printf("%zu MB, %zu signatures, %zu device literals: stream %.0f MB/s, 512-byte fields %.0f MB/s, %zu hits\n",
	       size >> 20, info.signatures, info.device_literals, size / 1048576.0 / (t1 - t0), size / 1048576.0 / (t2 - t1), hits);
	return 0;
}
