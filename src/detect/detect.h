/*
 * detect.h — the signature engine: device identifiers and location in what
 * leaves the device (docs/detect.md).
 *
 * One Hyperscan database (stream mode) holds every signature pattern of
 * signatures/<name>.yaml and every derived encoding of the device profile's values.
 * It is used two ways:
 *  - detect_scan_field(): one decoded field value (URL query value, header,
 *    cookie, form/JSON value, DNS name); the field's key name counts as key
 *    context ("imei" in "http.query:imei");
 *  - detect_stream_*(): the raw bytes of one flow direction, chunk by chunk,
 *    so a value split across packets is still found.
 * Each datum found becomes one struct pa_observation handed to a sink; the
 * caller fills flow_id (and hostname/jurisdiction in its own records).
 *
 * Threads: the engine is read-only after loading; each thread needs its own
 * struct detect_scratch. A raw stream holds only what its next bytes may
 * still need (scan.c), so its buffers grow and shrink as it is scanned.
 */
#ifndef PA_DETECT_H
#define PA_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "privaudit.h"
#include "util/diag.h"

struct detect_engine;
struct detect_scratch;
struct detect_stream;

typedef void (*detect_sink_fn)(void *ctx, const struct pa_observation *obs);

/*
 * Loads every signatures/<name>.yaml of signature_dir (recipients.yaml and the
 * devices/ folder excepted) and the device profile device_file (NULL = none),
 * then compiles them. NULL after reporting every problem to diag as
 * "file:line: message".
 */
struct detect_engine *detect_engine_load(const char *signature_dir, const char *device_file,
					 struct pa_diag *diag);
void detect_engine_free(struct detect_engine *engine);

/* What the engine holds, for --verbose and the report's "rule files" section. */
#define DETECT_DEVICE_MAX_IPS 8

struct detect_engine_info {
	size_t signatures;       /* pattern signatures loaded */
	size_t device_values;    /* identifier values of the device profile */
	size_t device_literals;  /* derived encodings compiled as literals */
	bool has_location;       /* the profile has a lab point: */
	double lat, lon;         /* WGS-84 degrees */
	double radius_km;
	size_t stream_state_size;/* bytes of Hyperscan state per open stream */
	/* The profile's device: section (which side of a flow is the phone);
	 * ip points into the engine. None of them without a profile. */
	const struct pa_addr *device_ip;
	size_t device_ip_count;
	bool device_has_mac;
	uint8_t device_mac[6];
};
void detect_engine_get_info(const struct detect_engine *engine, struct detect_engine_info *info);

/*
 * Validates one signature file or device profile (recognised by content:
 * top-level "signatures:" = signature file, "device:"/"identifiers:" = device
 * profile). Reports every problem; true when there were none.
 */
bool detect_check_file(const char *path, struct pa_diag *diag);
/* Same, from memory (fuzzing, tests); path appears in messages only. */
bool detect_check_buffer(const char *path, const uint8_t *buf, size_t len, struct pa_diag *diag);

/* One per thread. NULL on allocation failure. */
struct detect_scratch *detect_scratch_alloc(const struct detect_engine *engine);
void detect_scratch_free(struct detect_scratch *scratch);

/*
 * Scans one decoded field. ref->dir/packet/ts_us describe where it came from;
 * from_device false means the bytes travel towards the device: anything found
 * is tagged echo. Returns the number of observations handed to sink.
 */
size_t detect_scan_field(const struct detect_engine *engine, struct detect_scratch *scratch,
			 const struct pa_field_ref *ref, bool from_device, const uint8_t *data,
			 size_t len, detect_sink_fn sink, void *ctx);

/*
 * A raw byte stream of one flow direction. Open it when the direction first
 * carries payload; ref->protocol and ref->field must outlive the stream
 * (string literals), ref->packet/ts_us are ignored. NULL on allocation failure.
 */
struct detect_stream *detect_stream_open(const struct detect_engine *engine,
					 const struct pa_field_ref *ref, bool from_device);
/* The next len bytes of the direction, carried by packet `packet`. */
size_t detect_stream_scan(struct detect_stream *stream, struct detect_scratch *scratch,
			  const uint8_t *data, size_t len, uint64_t packet, int64_t ts_us,
			  detect_sink_fn sink, void *ctx);
/* Bytes that will never be seen (capture loss): nothing may match across them. */
size_t detect_stream_gap(struct detect_stream *stream, struct detect_scratch *scratch,
			 detect_sink_fn sink, void *ctx);
/* Bytes an idle raw stream holds at most (memory accounting): its state, the
 * Hyperscan stream, a full history and the packets that carried it. */
size_t detect_stream_idle_size(const struct detect_engine *engine);
/* Reports matches anchored at the end of the data, then frees the stream. */
size_t detect_stream_close(struct detect_stream *stream, struct detect_scratch *scratch,
			   detect_sink_fn sink, void *ctx);

/*
 * Masks a value for output: first 4 and last 4 characters kept for values of
 * 12 characters or more ("8675******5678"), fewer for shorter ones.
 */
void detect_mask_value(const char *value, char *out, size_t len);

#endif
