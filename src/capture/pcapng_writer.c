/* pcapng_writer.c — minimal pcapng output (SHB, IDB, EPB, DSB). */
#include "capture/pcapng_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	BLOCK_SHB = 0x0A0D0D0A,
	BLOCK_IDB = 0x00000001,
	BLOCK_EPB = 0x00000006,
	BLOCK_DSB = 0x0000000A,
	BYTE_ORDER_MAGIC = 0x1A2B3C4D,
	OPT_ENDOFOPT = 0,
	OPT_SHB_USERAPPL = 4,
	OPT_COMMENT = 1,
	OPT_IF_TSRESOL = 9,
	TSRESOL_NANOSECONDS = 9, /* if_tsresol: 10^-9 s */
};

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static bool put(struct pcapng_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return false;
	if (fwrite(p, 1, n, w->f) != n) {
		w->failed = true;
		w->errno_saved = errno ? errno : EIO;
		return false;
	}
	w->bytes += n;
	return true;
}

/* A block with a fixed part, a variable part padded to 4 bytes, and options. */
static bool put_block(struct pcapng_writer *w, uint32_t type, const void *fixed, size_t fixed_len,
		      const void *var, size_t var_len, const void *opts, size_t opts_len)
{
	static const uint8_t zeros[4];
	uint32_t total = (uint32_t)(12 + fixed_len + pad4(var_len) + opts_len);
	bool ok = put(w, &type, 4) && put(w, &total, 4) && put(w, fixed, fixed_len);
	if (var_len)
		ok = ok && put(w, var, var_len) && put(w, zeros, pad4(var_len) - var_len);
	if (opts_len)
		ok = ok && put(w, opts, opts_len);
	return ok && put(w, &total, 4);
}

bool pcapng_writer_open(struct pcapng_writer *w, const char *path, const char *app_name,
			struct pa_error *err)
{
	memset(w, 0, sizeof *w);
	w->f = fopen(path, "wb");
	if (!w->f) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return false;
	}
	struct {
		uint32_t magic;
		uint16_t major, minor;
		int64_t section_length;
	} shb = {BYTE_ORDER_MAGIC, 1, 0, -1};
	uint8_t opts[128];
	size_t n = strlen(app_name);
	if (n > 96)
		n = 96;
	uint16_t code = OPT_SHB_USERAPPL, len = (uint16_t)n;
	memcpy(opts, &code, 2);
	memcpy(opts + 2, &len, 2);
	memcpy(opts + 4, app_name, n);
	size_t o = 4 + pad4(n);
	memset(opts + 4 + n, 0, pad4(n) - n);
	memset(opts + o, 0, 4); /* opt_endofopt */
	o += 4;
	if (!put_block(w, BLOCK_SHB, &shb, sizeof shb, NULL, 0, opts, o)) {
		pa_error_set(err, "%s: %s", path, strerror(w->errno_saved));
		fclose(w->f);
		w->f = NULL;
		return false;
	}
	return true;
}

static int interface_for(struct pcapng_writer *w, int linktype)
{
	for (size_t i = 0; i < w->interfaces; i++)
		if (w->linktypes[i] == linktype)
			return (int)i;
	if (w->interfaces == PCAPNG_MAX_INTERFACES)
		return -1;
	struct {
		uint16_t linktype, reserved;
		uint32_t snaplen;
	} idb = {(uint16_t)linktype, 0, 0};
	/* if_tsresol = 9: timestamps in ns, so a copy keeps the precision of
	 * a nanosecond source instead of cutting it to the default µs. */
	uint8_t opts[12] = {0};
	uint16_t code = OPT_IF_TSRESOL, len = 1;
	memcpy(opts, &code, 2);
	memcpy(opts + 2, &len, 2);
	opts[4] = TSRESOL_NANOSECONDS;
	/* opts[8..11]: opt_endofopt */
	if (!put_block(w, BLOCK_IDB, &idb, sizeof idb, NULL, 0, opts, sizeof opts))
		return -1;
	w->linktypes[w->interfaces] = linktype;
	return (int)w->interfaces++;
}

bool pcapng_writer_packet(struct pcapng_writer *w, const struct capture_record *rec)
{
	return pcapng_writer_packet_comment(w, rec, NULL);
}

bool pcapng_writer_packet_comment(struct pcapng_writer *w, const struct capture_record *rec,
				  const char *comment)
{
	int ifc = interface_for(w, rec->linktype);
	if (ifc < 0)
		return false;
	uint64_t ts = (uint64_t)capture_record_ns(rec); /* if_tsresol 9: ns */
	struct {
		uint32_t interface_id, ts_high, ts_low, caplen, wirelen;
	} epb = {(uint32_t)ifc, (uint32_t)(ts >> 32), (uint32_t)ts, rec->caplen, rec->wirelen};
	uint8_t opts[4 + PCAPNG_COMMENT_MAX + 3 + 4];
	size_t opts_len = 0;
	if (comment && comment[0]) {
		size_t n = strlen(comment);
		if (n > PCAPNG_COMMENT_MAX)
			n = PCAPNG_COMMENT_MAX;
		uint16_t code = OPT_COMMENT, len = (uint16_t)n;
		memcpy(opts, &code, 2);
		memcpy(opts + 2, &len, 2);
		memcpy(opts + 4, comment, n);
		opts_len = 4 + pad4(n);
		memset(opts + 4 + n, 0, opts_len - 4 - n);
		memset(opts + opts_len, 0, 4); /* opt_endofopt */
		opts_len += 4;
	}
	if (!put_block(w, BLOCK_EPB, &epb, sizeof epb, rec->data, rec->caplen, opts, opts_len))
		return false;
	w->packets++;
	return true;
}

bool pcapng_writer_secrets(struct pcapng_writer *w, uint32_t secrets_type, const uint8_t *data,
			   size_t len)
{
	struct {
		uint32_t type, len;
	} dsb = {secrets_type, (uint32_t)len};
	return put_block(w, BLOCK_DSB, &dsb, sizeof dsb, data, len, NULL, 0);
}

bool pcapng_writer_flush(struct pcapng_writer *w)
{
	if (!w->failed && fflush(w->f) != 0) {
		w->failed = true;
		w->errno_saved = errno;
	}
	return !w->failed;
}

bool pcapng_writer_close(struct pcapng_writer *w)
{
	if (!w->f)
		return false;
	pcapng_writer_flush(w);
	if (!w->failed && fsync(fileno(w->f)) != 0 && errno != EINVAL) {
		w->failed = true;
		w->errno_saved = errno;
	}
	if (fclose(w->f) != 0 && !w->failed) {
		w->failed = true;
		w->errno_saved = errno;
	}
	w->f = NULL;
	return !w->failed;
}
