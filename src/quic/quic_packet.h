/*
 * quic_packet.h — the invariant and version-specific parts of QUIC
 * packets (RFC 8999, RFC 9000 section 17): long and short headers,
 * variable-length integers, packet-number recovery, header protection
 * removal, and the frames inside a decrypted payload (section 19).
 * Every length is checked against the datagram; nothing here decrypts.
 */
#ifndef PA_QUIC_PACKET_H
#define PA_QUIC_PACKET_H

#include "privaudit.h"
#include "quic/quic_crypto.h"

#define QUIC_CID_MAX 20

/* Packet kinds, v1 numbering for long headers. */
enum quic_ptype {
	QUIC_PT_INITIAL = 0,
	QUIC_PT_0RTT = 1,
	QUIC_PT_HANDSHAKE = 2,
	QUIC_PT_RETRY = 3,
	QUIC_PT_1RTT,
	QUIC_PT_VERSION_NEGOTIATION,
	QUIC_PT_UNKNOWN_VERSION, /* a long header of a version we cannot open */
};

struct quic_header {
	enum quic_ptype type;
	bool long_header;
	uint32_t version;        /* long headers */
	uint8_t dcid_len, scid_len;
	uint8_t dcid[QUIC_CID_MAX];
	uint8_t scid[QUIC_CID_MAX];
	size_t pn_offset;        /* where the protected packet number starts */
	size_t length;           /* the whole packet, header included (the rest of a
				  * datagram for a short header) */
};

/* A QUIC variable-length integer at *pos (advanced). false: runs past end. */
bool quic_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v);

/*
 * The header of the packet at the start of p (one of the packets a
 * datagram may coalesce). A short header's DCID length is not in the
 * packet: short_dcid_len is the length the receiver's connection IDs have.
 * false: malformed (lengths past the end, fixed bit clear).
 */
bool quic_parse_header(const uint8_t *p, size_t len, size_t short_dcid_len,
		       struct quic_header *h);

/* RFC 9000 A.3: the full packet number from its truncated encoding. */
uint64_t quic_decode_pn(uint64_t largest, uint64_t truncated, unsigned pn_nbits);

/*
 * Removes header protection in place (p: the packet, its header at the
 * start, h from quic_parse_header): unmasks the first byte and the packet
 * number, returns the truncated packet number and its length in bytes.
 * false: too short to sample. The caller keeps a copy to undo a failed try.
 */
bool quic_unprotect_header(const struct quic_keys *k, uint8_t *p, const struct quic_header *h,
			   uint64_t *truncated_pn, unsigned *pn_len);

/* One frame of a decrypted payload; data points into the payload. */
struct quic_frame {
	uint64_t type;
	uint64_t stream_id;     /* STREAM, RESET_STREAM */
	uint64_t offset;        /* STREAM, CRYPTO */
	uint64_t final_size;    /* RESET_STREAM */
	const uint8_t *data;    /* STREAM, CRYPTO; NEW_CONNECTION_ID: the CID */
	size_t len;
	bool fin;               /* STREAM */
	uint64_t sequence;      /* NEW_CONNECTION_ID */
};

/* Frame types the decoder acts on. */
enum {
	QUIC_FRAME_PADDING = 0x00,
	QUIC_FRAME_RESET_STREAM = 0x04,
	QUIC_FRAME_CRYPTO = 0x06,
	QUIC_FRAME_STREAM = 0x08, /* 0x08..0x0f */
	QUIC_FRAME_NEW_CONNECTION_ID = 0x18,
	QUIC_FRAME_CONNECTION_CLOSE = 0x1c,
};

/* The next frame at *pos (advanced). 0: end of payload; 1: a frame;
 * -1: malformed or an unknown type (the rest of the payload is unread). */
int quic_next_frame(const uint8_t *p, size_t len, size_t *pos, struct quic_frame *f);

#endif
