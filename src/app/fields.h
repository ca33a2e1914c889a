/*
 * fields.h — turning decoded application data into named fields for the
 * signature engine: URL-decoded query and form parameters, cookies, JSON
 * leaves by path, and base64-looking values decoded one level.
 *
 * Shared by every protocol decoder (HTTP/1, HTTP/2, DNS); field names are the
 * `field` column of observations (docs/app-decoders.md).
 */
#ifndef PA_FIELDS_H
#define PA_FIELDS_H

#include "privaudit.h"

/* Receives one field: where it came from and its (decoded) value bytes. */
typedef void (*field_sink_fn)(void *ctx, const struct pa_field_ref *ref, const uint8_t *value,
			      size_t len);

/*
 * Where the bytes of a buffer that arrived in several packets came from (an
 * HTTP body): the first `count` packets that added to it, each with the
 * buffer length after its bytes. A field found in the buffer is then
 * attributed to the packet holding its last byte, not to the packet that
 * completed the message: that packet is the evidence that shows the value.
 */
#define FIELD_ORIGIN_MAX 64
struct field_origin {
	const uint8_t *base;
	size_t len;
	size_t count;
	struct {
		size_t end;       /* buffer length after this packet's bytes */
		uint64_t packet;
		int64_t ts_us;
	} parts[FIELD_ORIGIN_MAX];
};

/* A sink plus the template of every field it emits (protocol, dir, packet, ts). */
struct field_emitter {
	field_sink_fn sink;
	/* Stream bytes a decoder could not parse, in order per direction
	 * (ref.field a literal): scanned as a raw stream. NULL: dropped. */
	field_sink_fn raw;
	void *ctx;
	struct pa_field_ref ref; /* .field is set per emitted field */
	bool decoded_once;       /* inside a value already decoded from base64: no further level */
	const struct field_origin *origin; /* NULL: every field gets ref.packet */
	const uint8_t *raw_at;   /* the encoded text of the value being emitted, inside origin */
	size_t raw_len;
	size_t cursor;           /* origin offset where the search for the next value starts */
};

/* Records that `packet` brought the buffer to length `end` (in order). */
void field_origin_add(struct field_origin *o, size_t end, uint64_t packet, int64_t ts_us);

#define FIELD_NAME_MAX 160

/* One field "name" with its value; a base64-looking value is also decoded and
 * emitted as "name+base64" (and walked if it holds JSON or a form). */
void fields_emit(struct field_emitter *e, const char *name, const uint8_t *v, size_t len);
/* "a=1&b=2": "prefix" gets the whole string, then "prefix:a", "prefix:b" (URL-decoded). */
void fields_emit_params(struct field_emitter *e, const char *prefix, const uint8_t *s, size_t len);
/* Cookie header value "a=1; b=2": "prefix:a", "prefix:b". */
void fields_emit_cookies(struct field_emitter *e, const char *prefix, const uint8_t *s, size_t len);
/* JSON text: each leaf as "prefix:path" (path "a.b[2].c"). false when not JSON. */
bool fields_emit_json(struct field_emitter *e, const char *prefix, const uint8_t *s, size_t len);
/* A message body: "prefix" gets the bytes, then form or JSON fields by
 * content type, or by sniffing when the type says nothing. */
void fields_emit_body(struct field_emitter *e, const char *prefix, const char *content_type,
		      const uint8_t *s, size_t len);

/* %XX and '+' decoding; out must hold len bytes; returns the decoded length. */
size_t fields_url_decode(const uint8_t *in, size_t len, uint8_t *out, bool plus_is_space);
/* Standard or URL-safe base64, padded or not; out must hold len*3/4+3 bytes.
 * false when the text is not base64. */
bool fields_base64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t *out_len);

#endif
