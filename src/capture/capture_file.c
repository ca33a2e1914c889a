/*
 * capture_file.c — our own pcap / pcapng reader (see capture.h for why).
 *
 * The file is read through one sliding window: large read() calls into a
 * buffer that only grows when a single record is bigger than it, so there is
 * no allocation and no system call per record. A capture held in memory (the
 * fuzzer, tests) uses the same window with no refill.
 *
 * Damage is reported with the byte offset where it starts; everything read
 * before it has already been handed out. A record cut off at the very end is
 * "truncated" (a capture stopped mid-write), anything that cannot be a record
 * boundary is an "error".
 */
#include "capture/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_MAGIC_KUZNETZOV 0xa1b2cd34u /* patched Linux libpcap: 24-byte record headers */
#define PCAPNG_SHB 0x0a0d0d0au
#define PCAPNG_BOM 0x1a2b3c4du
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_PB 0x00000002u  /* obsolete Packet Block */
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_DSB 0x0000000au

#define WINDOW_INITIAL (4u << 20)
/* Biggest pcapng block we accept: libpcap and Wireshark use the same bound;
 * a larger length means the structure is damaged, not a real block. */
#define MAX_BLOCK_LEN (16u << 20)
/* Records longer than this and the file's snaplen are damage, as in libpcap. */
#define MAX_PCAP_SNAPLEN 262144u
#define MAX_INTERFACES 65536u

enum file_format { FMT_PCAP, FMT_PCAP_NS, FMT_PCAPNG };

struct interface {
	int linktype;
	uint32_t snaplen;
	bool ts_pow2;     /* resolution 2^-ts_exp s instead of 10^-ts_exp s */
	uint8_t ts_exp;
	int64_t ts_offset_us;
	int64_t ts_offset_ns;
};

struct capture_file {
	char *path;
	int fd;                /* -1 when reading from memory */
	bool borrowed_fd;      /* a stream (standard input): not ours to close */
	int copy_fd;           /* a stream: every byte read is also written here; -1: none */
	int copy_errno;        /* the first failed write to copy_fd */

	/* the window: data[pos..len) is unread, data[0] is at file offset base */
	uint8_t *buf;          /* owned buffer when reading a file */
	const uint8_t *data;
	size_t cap, len, pos;
	uint64_t base;
	bool eof;
	int read_errno;

	enum file_format format;
	bool swapped;          /* file byte order differs from ours */
	bool finished;         /* EOF, truncation or error already reported */

	/* pcap */
	int linktype;
	uint32_t snaplen;
	size_t record_header_len;

	/* pcapng: interfaces of the current section */
	struct interface *ifaces;
	size_t n_ifaces, cap_ifaces;
	int64_t last_ts_us;    /* for Simple Packet Blocks, which carry none */
	int64_t last_ts_ns;

	capture_secrets_fn secrets_fn;
	void *secrets_ctx;
};

static uint16_t get16(const struct capture_file *cf, const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return cf->swapped ? __builtin_bswap16(v) : v;
}

static uint32_t get32(const struct capture_file *cf, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return cf->swapped ? __builtin_bswap32(v) : v;
}

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t offset_now(const struct capture_file *cf)
{
	return cf->base + cf->pos;
}

static size_t available(const struct capture_file *cf)
{
	return cf->len - cf->pos;
}

/* A stream can be read only once: the copy is what the evidence and the
 * manifest's hash are made from afterwards. */
static void copy_out(struct capture_file *cf, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(cf->copy_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cf->copy_errno = w < 0 ? errno : EIO;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Make at least need bytes readable at data + pos; false when the file ends
 * (or a read fails) first. Earlier pointers into the window become invalid. */
static bool window_fill(struct capture_file *cf, size_t need)
{
	if (available(cf) >= need)
		return true;
	if (cf->fd < 0 || cf->eof)
		return false;
	if (cf->pos > 0) {
		memmove(cf->buf, cf->buf + cf->pos, cf->len - cf->pos);
		cf->base += cf->pos;
		cf->len -= cf->pos;
		cf->pos = 0;
	}
	if (need > cf->cap) {
		size_t cap = cf->cap;
		while (cap < need)
			cap *= 2;
		cf->buf = pa_xrealloc(cf->buf, cap);
		cf->cap = cap;
	}
	cf->data = cf->buf;
	while (cf->len < need) {
		ssize_t n = read(cf->fd, cf->buf + cf->len, cf->cap - cf->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cf->eof = true;
			if (n < 0)
				cf->read_errno = errno;
			return false;
		}
		if (cf->copy_fd >= 0 && !cf->copy_errno)
			copy_out(cf, cf->buf + cf->len, (size_t)n);
		cf->len += (size_t)n;
	}
	return true;
}

static enum capture_status finish(struct capture_file *cf, enum capture_status st)
{
	cf->finished = true;
	return st;
}

/* The end came inside a record: a capture stopped while writing. A read
 * error is not a cut-off file, so it is reported as one. */
static enum capture_status cut_off(struct capture_file *cf, size_t full_len,
				   struct pa_error *err)
{
	if (cf->read_errno) {
		pa_error_set(err, "%s: read error at byte offset %llu: %s", cf->path,
			     (unsigned long long)(cf->base + cf->len), strerror(cf->read_errno));
		return finish(cf, CAPTURE_ERROR);
	}
	pa_error_set(err, "%s: last record cut off at byte offset %llu (%zu of %zu bytes present)",
		     cf->path, (unsigned long long)offset_now(cf), available(cf), full_len);
	return finish(cf, CAPTURE_TRUNCATED);
}

static enum capture_status clean_end(struct capture_file *cf, struct pa_error *err)
{
	if (cf->read_errno) {
		pa_error_set(err, "%s: read error at byte offset %llu: %s", cf->path,
			     (unsigned long long)(cf->base + cf->len), strerror(cf->read_errno));
		return finish(cf, CAPTURE_ERROR);
	}
	return finish(cf, CAPTURE_EOF);
}

static enum capture_status damaged(struct capture_file *cf, struct pa_error *err,
				   const char *what, unsigned long long value)
{
	pa_error_set(err, "%s: damaged at byte offset %llu: %s %llu", cf->path,
		     (unsigned long long)offset_now(cf), what, value);
	return finish(cf, CAPTURE_ERROR);
}

/* ---- pcap ---------------------------------------------------------------- */

static bool pcap_header(struct capture_file *cf, uint32_t magic, struct pa_error *err)
{
	if (!window_fill(cf, 24)) {
		pa_error_set(err, "%s: pcap file header cut off (%zu of 24 bytes present)",
			     cf->path, available(cf));
		return false;
	}
	const uint8_t *h = cf->data + cf->pos;
	cf->swapped = host32(h) != magic;
	cf->format = magic == PCAP_MAGIC_NS ? FMT_PCAP_NS : FMT_PCAP;
	cf->record_header_len = magic == PCAP_MAGIC_KUZNETZOV ? 24 : 16;
	uint16_t major = get16(cf, h + 4);
	if (major != 2) {
		pa_error_set(err, "%s: unsupported pcap version %u.%u", cf->path, major,
			     get16(cf, h + 6));
		return false;
	}
	cf->snaplen = get32(cf, h + 16);
	/* The upper bits carry FCS information, not the link type. */
	cf->linktype = (int)(get32(cf, h + 20) & 0x03ffffffu);
	cf->pos += 24;
	return true;
}

static enum capture_status pcap_next(struct capture_file *cf, struct capture_record *rec,
				     struct pa_error *err)
{
	size_t hlen = cf->record_header_len;
	if (!window_fill(cf, hlen)) {
		if (available(cf) == 0)
			return clean_end(cf, err);
		return cut_off(cf, hlen, err);
	}
	const uint8_t *h = cf->data + cf->pos;
	uint32_t sec = get32(cf, h), frac = get32(cf, h + 4);
	uint32_t caplen = get32(cf, h + 8), wirelen = get32(cf, h + 12);
	uint32_t limit = cf->snaplen > MAX_PCAP_SNAPLEN ? cf->snaplen : MAX_PCAP_SNAPLEN;
	if (limit > MAX_BLOCK_LEN)
		limit = MAX_BLOCK_LEN;
	if (caplen > limit)
		return damaged(cf, err, "impossible record length", caplen);
	if (!window_fill(cf, hlen + caplen))
		return cut_off(cf, hlen + caplen, err);
	h = cf->data + cf->pos;

	int64_t ts = (int64_t)sec * 1000000;
	ts += cf->format == FMT_PCAP_NS ? frac / 1000 : frac;
	rec->ts_us = ts;
	rec->ts_ns = (int64_t)sec * 1000000000 + (cf->format == FMT_PCAP_NS ? frac : (int64_t)frac * 1000);
	rec->caplen = caplen;
	rec->wirelen = wirelen;
	rec->linktype = cf->linktype;
	rec->interface_id = 0;
	rec->data = h + hlen;
	rec->offset = offset_now(cf);
	cf->pos += hlen + caplen;
	return CAPTURE_RECORD;
}

/* ---- pcapng -------------------------------------------------------------- */

static int64_t ng_timestamp(const struct interface *ifc, uint32_t hi, uint32_t lo)
{
	uint64_t t = (uint64_t)hi << 32 | lo;
	uint64_t us;
	if (ifc->ts_pow2) {
		us = (uint64_t)(((unsigned __int128)t * 1000000u) >> ifc->ts_exp);
	} else if (ifc->ts_exp <= 6) {
		uint64_t mult = 1;
		for (unsigned i = ifc->ts_exp; i < 6; i++)
			mult *= 10;
		us = t * mult; /* wraps on nonsense values; unsigned, so defined */
	} else {
		uint64_t div = 1;
		for (unsigned i = 6; i < ifc->ts_exp && i < 25; i++)
			div = div > UINT64_MAX / 10 ? UINT64_MAX : div * 10;
		us = t / div;
	}
	return (int64_t)(us + (uint64_t)ifc->ts_offset_us);
}

/* The same in ns, kept exact up to 10^-9 s resolution (evidence copies
 * keep the source's precision). */
static int64_t ng_timestamp_ns(const struct interface *ifc, uint32_t hi, uint32_t lo)
{
	uint64_t t = (uint64_t)hi << 32 | lo;
	uint64_t ns;
	if (ifc->ts_pow2) {
		ns = (uint64_t)(((unsigned __int128)t * 1000000000u) >> ifc->ts_exp);
	} else if (ifc->ts_exp <= 9) {
		uint64_t mult = 1;
		for (unsigned i = ifc->ts_exp; i < 9; i++)
			mult *= 10;
		ns = t * mult; /* wraps on nonsense values; unsigned, so defined */
	} else {
		uint64_t div = 1;
		for (unsigned i = 9; i < ifc->ts_exp && i < 25; i++)
			div = div > UINT64_MAX / 10 ? UINT64_MAX : div * 10;
		ns = t / div;
	}
	return (int64_t)(ns + (uint64_t)ifc->ts_offset_ns);
}

/* Options are (code, length, value padded to 4) up to the end of the body;
 * a malformed option list ends the parse rather than the file. */
static void ng_interface_options(const struct capture_file *cf, struct interface *ifc,
				 const uint8_t *p, const uint8_t *end)
{
	while (end - p >= 4) {
		uint16_t code = get16(cf, p), len = get16(cf, p + 2);
		p += 4;
		if (code == 0 || (size_t)(end - p) < len)
			return;
		if (code == 9 && len >= 1) { /* if_tsresol */
			uint8_t v = p[0];
			ifc->ts_pow2 = v & 0x80;
			ifc->ts_exp = v & 0x7f;
			if (!ifc->ts_pow2 && ifc->ts_exp > 24)
				ifc->ts_exp = 24;
		} else if (code == 14 && len >= 8) { /* if_tsoffset, seconds */
			uint64_t off;
			memcpy(&off, p, 8);
			if (cf->swapped)
				off = __builtin_bswap64(off);
			ifc->ts_offset_us = (int64_t)(off * 1000000u);
			ifc->ts_offset_ns = (int64_t)(off * 1000000000u);
		}
		size_t padded = ((size_t)len + 3) & ~(size_t)3;
		if ((size_t)(end - p) < padded)
			return;
		p += padded;
	}
}

static enum capture_status ng_interface(struct capture_file *cf, const uint8_t *b,
					uint32_t blen, struct pa_error *err)
{
	if (blen < 20)
		return damaged(cf, err, "interface block too short:", blen);
	if (cf->n_ifaces >= MAX_INTERFACES)
		return damaged(cf, err, "too many interfaces:", cf->n_ifaces);
	if (cf->n_ifaces == cf->cap_ifaces) {
		cf->cap_ifaces = cf->cap_ifaces ? cf->cap_ifaces * 2 : 4;
		cf->ifaces = pa_xrealloc(cf->ifaces, cf->cap_ifaces * sizeof *cf->ifaces);
	}
	struct interface *ifc = &cf->ifaces[cf->n_ifaces++];
	*ifc = (struct interface){
		.linktype = get16(cf, b + 8),
		.snaplen = get32(cf, b + 12),
		.ts_exp = 6,
	};
	ng_interface_options(cf, ifc, b + 16, b + blen - 4);
	return CAPTURE_RECORD;
}

static enum capture_status ng_section(struct capture_file *cf, const uint8_t *b,
				      uint32_t blen, struct pa_error *err)
{
	if (blen < 28)
		return damaged(cf, err, "section header block too short:", blen);
	uint16_t major = get16(cf, b + 12);
	if (major != 1)
		return damaged(cf, err, "unsupported pcapng major version", major);
	cf->n_ifaces = 0; /* interface ids restart in every section */
	return CAPTURE_RECORD;
}

static enum capture_status ng_interface_for(struct capture_file *cf, uint32_t id,
					    struct pa_error *err)
{
	if (id < cf->n_ifaces)
		return CAPTURE_RECORD;
	pa_error_set(err, "%s: damaged at byte offset %llu: packet names interface %u "
		     "but the section defines %zu", cf->path,
		     (unsigned long long)offset_now(cf), id, cf->n_ifaces);
	return finish(cf, CAPTURE_ERROR);
}

static void fill_record(struct capture_file *cf, struct capture_record *rec, uint32_t ifid,
			int64_t ts, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
			uint32_t wirelen)
{
	rec->ts_us = ts;
	rec->ts_ns = ts_ns;
	cf->last_ts_ns = ts_ns;
	rec->caplen = caplen;
	rec->wirelen = wirelen;
	rec->linktype = cf->ifaces[ifid].linktype;
	rec->interface_id = ifid;
	rec->data = data;
	rec->offset = offset_now(cf);
	cf->last_ts_us = ts;
}

/* One block; CAPTURE_RECORD with *got set when it was a packet. */
static enum capture_status ng_block(struct capture_file *cf, uint32_t type, const uint8_t *b,
				    uint32_t blen, struct capture_record *rec, bool *got,
				    struct pa_error *err)
{
	enum capture_status st;
	uint32_t ifid, caplen;
	switch (type) {
	case PCAPNG_SHB:
		return ng_section(cf, b, blen, err);
	case PCAPNG_IDB:
		return ng_interface(cf, b, blen, err);
	case PCAPNG_EPB:
	case PCAPNG_PB:
		if (blen < 32)
			return damaged(cf, err, "packet block too short:", blen);
		ifid = type == PCAPNG_EPB ? get32(cf, b + 8) : get16(cf, b + 8);
		caplen = get32(cf, b + 20);
		if (caplen > blen - 32)
			return damaged(cf, err, "packet length past its block:", caplen);
		if ((st = ng_interface_for(cf, ifid, err)) != CAPTURE_RECORD)
			return st;
		fill_record(cf, rec, ifid,
			    ng_timestamp(&cf->ifaces[ifid], get32(cf, b + 12), get32(cf, b + 16)),
			    ng_timestamp_ns(&cf->ifaces[ifid], get32(cf, b + 12), get32(cf, b + 16)),
			    b + 28, caplen, get32(cf, b + 24));
		*got = true;
		return CAPTURE_RECORD;
	case PCAPNG_SPB: {
		if (blen < 16)
			return damaged(cf, err, "simple packet block too short:", blen);
		if ((st = ng_interface_for(cf, 0, err)) != CAPTURE_RECORD)
			return st;
		uint32_t wirelen = get32(cf, b + 8);
		caplen = blen - 16;
		if (caplen > wirelen)
			caplen = wirelen;
		if (cf->ifaces[0].snaplen && caplen > cf->ifaces[0].snaplen)
			caplen = cf->ifaces[0].snaplen;
		fill_record(cf, rec, 0, cf->last_ts_us, cf->last_ts_ns, b + 12, caplen, wirelen);
		*got = true;
		return CAPTURE_RECORD;
	}
	case PCAPNG_DSB: {
		if (blen < 20)
			return damaged(cf, err, "decryption secrets block too short:", blen);
		uint32_t len = get32(cf, b + 12);
		if (len > blen - 20)
			return damaged(cf, err, "secrets length past its block:", len);
		if (cf->secrets_fn)
			cf->secrets_fn(cf->secrets_ctx, get32(cf, b + 8), b + 16, len);
		return CAPTURE_RECORD;
	}
	default:
		return CAPTURE_RECORD; /* statistics, name resolution, custom: not needed */
	}
}

static enum capture_status pcapng_next(struct capture_file *cf, struct capture_record *rec,
				       struct pa_error *err)
{
	for (;;) {
		if (!window_fill(cf, 8)) {
			if (available(cf) == 0)
				return clean_end(cf, err);
			return cut_off(cf, 12, err); /* the smallest block */
		}
		const uint8_t *b = cf->data + cf->pos;
		uint32_t type = host32(b);
		if (type == PCAPNG_SHB) { /* a new section may switch byte order */
			if (!window_fill(cf, 28))
				return cut_off(cf, 28, err);
			b = cf->data + cf->pos;
			uint32_t bom = host32(b + 8);
			if (bom != PCAPNG_BOM && bom != __builtin_bswap32(PCAPNG_BOM))
				return damaged(cf, err, "bad section byte-order magic", bom);
			cf->swapped = bom != PCAPNG_BOM;
		} else {
			type = get32(cf, b);
		}
		uint32_t blen = get32(cf, b + 4);
		if (blen < 12 || blen % 4 != 0 || blen > MAX_BLOCK_LEN)
			return damaged(cf, err, "impossible block length", blen);
		if (!window_fill(cf, blen))
			return cut_off(cf, blen, err);
		b = cf->data + cf->pos;
		uint32_t trailer = get32(cf, b + blen - 4);
		if (trailer != blen)
			return damaged(cf, err, "block's trailing length differs:", trailer);

		bool got = false;
		enum capture_status st = ng_block(cf, type, b, blen, rec, &got, err);
		if (st != CAPTURE_RECORD)
			return st;
		cf->pos += blen; /* the record's data stays put until the next fill */
		if (got)
			return CAPTURE_RECORD;
	}
}

/* ---- opening ------------------------------------------------------------- */

static struct capture_file *open_common(struct capture_file *cf, struct pa_error *err)
{
	if (!window_fill(cf, 4)) {
		pa_error_set(err, "%s: not a pcap or pcapng file (%zu bytes long)", cf->path,
			     available(cf));
		goto fail;
	}
	uint32_t magic = host32(cf->data + cf->pos);
	uint32_t swapped_magic = __builtin_bswap32(magic);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS || magic == PCAP_MAGIC_KUZNETZOV) {
		if (!pcap_header(cf, magic, err))
			goto fail;
	} else if (swapped_magic == PCAP_MAGIC_US || swapped_magic == PCAP_MAGIC_NS ||
		   swapped_magic == PCAP_MAGIC_KUZNETZOV) {
		if (!pcap_header(cf, swapped_magic, err))
			goto fail;
		cf->swapped = true;
	} else if (magic == PCAPNG_SHB) {
		cf->format = FMT_PCAPNG;
		/* The first section header must be whole, or this is not a capture. */
		if (!window_fill(cf, 28)) {
			pa_error_set(err, "%s: pcapng section header cut off (%zu of 28 bytes present)",
				     cf->path, available(cf));
			goto fail;
		}
		uint32_t bom = host32(cf->data + cf->pos + 8);
		if (bom != PCAPNG_BOM && bom != __builtin_bswap32(PCAPNG_BOM)) {
			pa_error_set(err, "%s: not a pcap or pcapng file (bad byte-order magic)",
				     cf->path);
			goto fail;
		}
	} else {
		pa_error_set(err, "%s: not a pcap or pcapng file", cf->path);
		goto fail;
	}
	return cf;
fail:
	capture_file_close(cf);
	return NULL;
}

static struct capture_file *new_file(const char *name)
{
	struct capture_file *cf = pa_xcalloc(1, sizeof *cf);
	cf->path = pa_xstrdup(name);
	cf->fd = -1;
	cf->copy_fd = -1;
	return cf;
}

static struct capture_file *open_fd(int fd, const char *name)
{
	struct capture_file *cf = new_file(name);
	cf->fd = fd;
	cf->cap = WINDOW_INITIAL;
	cf->buf = pa_xmalloc(cf->cap);
	cf->data = cf->buf;
	return cf;
}

struct capture_file *capture_file_open(const char *path, struct pa_error *err)
{
	if (!strcmp(path, "-"))
		return capture_file_open_stream(STDIN_FILENO, PA_STDIN_NAME, -1, err);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pa_error_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct capture_file *cf = open_fd(fd, path);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (!window_fill(cf, 1) && cf->read_errno) { /* a directory, for one */
		pa_error_set(err, "%s: %s", path, strerror(cf->read_errno));
		capture_file_close(cf);
		return NULL;
	}
	return open_common(cf, err);
}

struct capture_file *capture_file_open_stream(int fd, const char *name, int copy_fd,
					      struct pa_error *err)
{
	struct capture_file *cf = open_fd(fd, name);
	cf->borrowed_fd = true;
	cf->copy_fd = copy_fd;
	/* A pipe gives what has arrived so far: window_fill waits for the
	 * rest of a record, so records are handed out as they come. */
	if (!window_fill(cf, 1) && cf->read_errno) {
		pa_error_set(err, "%s: %s", name, strerror(cf->read_errno));
		capture_file_close(cf);
		return NULL;
	}
	return open_common(cf, err);
}

int capture_file_copy_errno(const struct capture_file *cf)
{
	return cf->copy_errno;
}

struct capture_file *capture_file_open_memory(const uint8_t *buf, size_t len, const char *name,
					      struct pa_error *err)
{
	struct capture_file *cf = new_file(name ? name : "(memory)");
	cf->data = buf;
	cf->len = len;
	cf->eof = true;
	return open_common(cf, err);
}

enum capture_status capture_file_next(struct capture_file *cf, struct capture_record *rec,
				      struct pa_error *err)
{
	if (cf->finished)
		return CAPTURE_EOF;
	if (cf->format == FMT_PCAPNG)
		return pcapng_next(cf, rec, err);
	return pcap_next(cf, rec, err);
}

void capture_file_on_secrets(struct capture_file *cf, capture_secrets_fn fn, void *ctx)
{
	cf->secrets_fn = fn;
	cf->secrets_ctx = ctx;
}

const char *capture_file_path(const struct capture_file *cf)
{
	return cf->path;
}

int capture_file_fd(const struct capture_file *cf)
{
	return cf->fd;
}

const char *capture_file_format(const struct capture_file *cf)
{
	switch (cf->format) {
	case FMT_PCAP_NS:
		return "pcap-ns";
	case FMT_PCAPNG:
		return "pcapng";
	default:
		return "pcap";
	}
}

void capture_file_close(struct capture_file *cf)
{
	if (!cf)
		return;
	if (cf->fd >= 0 && !cf->borrowed_fd)
		close(cf->fd);
	free(cf->buf);
	free(cf->ifaces);
	free(cf->path);
	free(cf);
}
