/*
 * capture.h — reading capture files: pcap (µs and ns) and pcapng (several
 * interfaces, each with its own link type and timestamp resolution).
 *
 * The reader is our own rather than libpcap's because libpcap refuses pcapng
 * files whose interfaces have different link types, hides the byte offset of a
 * cut-off record, and drops Decryption Secrets Blocks, all of which an auditor
 * needs. Live capture (capture_live.c) does use libpcap.
 */
#ifndef PA_CAPTURE_H
#define PA_CAPTURE_H

#include "privaudit.h"

/* One packet record as stored in the file. */
struct capture_record {
	int64_t ts_us;         /* µs since the epoch (converted from the file's resolution) */
	/* ns since the epoch, as precise as the source: the reader fills both,
	 * a producer that only knows µs may leave it 0 (see capture_record_ns). */
	int64_t ts_ns;
	uint32_t caplen;       /* bytes at data */
	uint32_t wirelen;      /* original length */
	int linktype;          /* LINKTYPE_* of this record's interface */
	uint32_t interface_id; /* pcapng interface index; 0 for pcap */
	const uint8_t *data;   /* valid until the next capture_file_next() */
	uint64_t offset;       /* byte offset of the record in its file */
};

/* The record's timestamp in ns: ts_ns when it agrees with ts_us (it was
 * filled), else ts_us scaled, so records made with only ts_us still work. */
static inline int64_t capture_record_ns(const struct capture_record *rec)
{
	int64_t us = rec->ts_ns / 1000 - (rec->ts_ns % 1000 < 0); /* floor */
	return us == rec->ts_us ? rec->ts_ns : rec->ts_us * 1000;
}

enum capture_status {
	CAPTURE_RECORD,    /* *rec filled */
	CAPTURE_EOF,       /* clean end of file */
	CAPTURE_TRUNCATED, /* the last record is cut off; err says at which byte offset. Treat as EOF + warning. */
	CAPTURE_ERROR,     /* the file is damaged beyond this point; err says where. Treat as EOF + error. */
};

/* pcapng Decryption Secrets Block (type 0x0000000A): secrets_type is e.g.
 * 0x544c534b ("TLSK", NSS key log text). Called while reading, in file order. */
typedef void (*capture_secrets_fn)(void *ctx, uint32_t secrets_type,
				   const uint8_t *data, size_t len);

struct capture_file;

/* NULL with err set ("FILE: not a pcap or pcapng file", "FILE: No such file or directory"). */
struct capture_file *capture_file_open(const char *path, struct pa_error *err);
/*
 * A capture arriving on a descriptor that can be read only once (path "-"
 * to capture_file_open is standard input, named PA_STDIN_NAME in messages):
 * records are handed out as they arrive. With copy_fd >= 0 every byte read
 * is written there too, so the capture can be hashed and its evidence cut
 * afterwards; capture_file_copy_errno says whether a write failed. Neither
 * descriptor is closed by capture_file_close.
 */
#define PA_STDIN_NAME "standard input"
struct capture_file *capture_file_open_stream(int fd, const char *name, int copy_fd,
					      struct pa_error *err);
int capture_file_copy_errno(const struct capture_file *cf);
/* The same over a capture held in memory (tests, fuzzing): buf must outlive
 * the reader; name is used in messages. */
struct capture_file *capture_file_open_memory(const uint8_t *buf, size_t len, const char *name,
					      struct pa_error *err);
enum capture_status capture_file_next(struct capture_file *cf, struct capture_record *rec,
				      struct pa_error *err);
void capture_file_on_secrets(struct capture_file *cf, capture_secrets_fn fn, void *ctx);
const char *capture_file_path(const struct capture_file *cf);
const char *capture_file_format(const struct capture_file *cf); /* "pcap", "pcap-ns", "pcapng" */
/* The open file's descriptor, for fstat (-1 for a capture in memory). */
int capture_file_fd(const struct capture_file *cf);
void capture_file_close(struct capture_file *cf);

/*
 * The list of input files: arguments that name directories are expanded to
 * the capture files they hold (non-recursive, names sorted). All files are then
 * ordered by the timestamp of their first record (ties: by name), so that
 * ring-buffer folders and split captures read as one timeline.
 * Only files starting with a pcap/pcapng magic number are taken from a
 * directory; files without any record sort last.
 * A stream (capture_path_is_stream: "-", a pipe) is read where it stands,
 * once, so it cannot be placed by its first timestamp and may not be
 * combined with other inputs.
 * Returns false with err set when an argument cannot be read ("PATH: No such
 * file or directory") or a directory holds no capture file.
 */
/* "-" (standard input), or a path that is neither a regular file nor a
 * folder: a named pipe, /dev/fd/N from bash's <(...), a device. */
bool capture_path_is_stream(const char *path);

/*
 * A stream input — standard input ("-") or a pipe given by name, such as
 * bash's <(tcpdump -w - ...) — is read once, as it arrives. With a copy
 * folder every byte is also kept there, in stdin.pcap (stream.pcap for a
 * named pipe; .pcapng for pcapng): that copy is the input the manifest
 * hashes, `verify` re-hashes and the evidence is cut from, so it stands in
 * for the stream in every output.
 */
struct capture_stream {
	int fd;              /* the stream */
	bool owned;          /* opened here (a named pipe), closed here */
	int copy_fd;         /* -1: no copy */
	char copy_path[4096]; /* the copy, once its format is known; else "" */
};
/* Opens path ("-" or a pipe) for reading; copy_dir: where to keep its copy,
 * or NULL for none. NULL with err set when it cannot be opened, is not a
 * capture or its copy cannot be created. */
struct capture_file *capture_stream_open(struct capture_stream *s, const char *path,
					 const char *copy_dir, struct pa_error *err);
/* After the last record, before capture_file_close(cf): closes the stream
 * and completes its copy. false with err set when the copy is incomplete
 * (the records read stand; only the copy lacks some). */
bool capture_stream_finish(struct capture_stream *s, const struct capture_file *cf,
			   struct pa_error *err);

struct capture_inputs {
	char **paths;
	size_t count;
};
bool capture_inputs_collect(struct capture_inputs *in, char *const *args, size_t nargs,
			    struct pa_error *err);
void capture_inputs_free(struct capture_inputs *in);

/* LINKTYPE_* values we decode (www.tcpdump.org/linktypes.html). */
enum {
	PA_LINKTYPE_NULL = 0,
	PA_LINKTYPE_ETHERNET = 1,
	PA_LINKTYPE_RAW = 101,
	PA_LINKTYPE_LOOP = 108,
	PA_LINKTYPE_LINUX_SLL = 113,
	PA_LINKTYPE_IPV4 = 228,
	PA_LINKTYPE_IPV6 = 229,
	PA_LINKTYPE_LINUX_SLL2 = 276,
};

#endif
