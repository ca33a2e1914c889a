/*
 * quic_packet.c — QUIC headers, packet numbers and frames (quic_packet.h).
 */
#include "quic/quic_packet.h"

#include <string.h>

bool quic_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	if (*pos >= len)
		return false;
	size_t n = (size_t)1 << (p[*pos] >> 6);
	if (len - *pos < n)
		return false;
	uint64_t x = p[*pos] & 0x3f;
	for (size_t i = 1; i < n; i++)
		x = x << 8 | p[*pos + i];
	*pos += n;
	*v = x;
	return true;
}

static bool read_cid(const uint8_t *p, size_t len, size_t *pos, uint8_t *len_out, uint8_t *cid)
{
	if (*pos >= len || p[*pos] > QUIC_CID_MAX || len - *pos - 1 < p[*pos])
		return false;
	*len_out = p[*pos];
	memcpy(cid, p + *pos + 1, *len_out);
	*pos += 1 + (size_t)*len_out;
	return true;
}

bool quic_parse_header(const uint8_t *p, size_t len, size_t short_dcid_len,
		       struct quic_header *h)
{
	memset(h, 0, sizeof *h);
	if (len < 1)
		return false;
	if (!(p[0] & 0x80)) {
		/* Short header: 1-RTT. The fixed bit is not checked: a peer that
		 * announced grease_quic_bit (RFC 9287, ngtcp2 does) may get packets
		 * with it clear; the AEAD tag tells a QUIC packet from noise. */
		if (short_dcid_len > QUIC_CID_MAX || len < 1 + short_dcid_len)
			return false;
		h->type = QUIC_PT_1RTT;
		h->dcid_len = (uint8_t)short_dcid_len;
		memcpy(h->dcid, p + 1, short_dcid_len);
		h->pn_offset = 1 + short_dcid_len;
		h->length = len;
		return true;
	}
	if (len < 7)
		return false;
	h->long_header = true;
	h->version = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	size_t pos = 5;
	if (!read_cid(p, len, &pos, &h->dcid_len, h->dcid) ||
	    !read_cid(p, len, &pos, &h->scid_len, h->scid))
		return false;
	if (h->version == 0) {
		h->type = QUIC_PT_VERSION_NEGOTIATION;
		h->length = len;
		return true;
	}
	if (!quic_version_supported(h->version)) {
		/* Its length field may be anywhere: the rest of the datagram is it. */
		h->type = QUIC_PT_UNKNOWN_VERSION;
		h->length = len;
		return true;
	}
	h->type = (enum quic_ptype)quic_long_type_v1(h->version, (p[0] >> 4) & 3);
	if (h->type == QUIC_PT_RETRY) {
		h->length = len;
		return true;
	}
	uint64_t v;
	if (h->type == QUIC_PT_INITIAL) {
		if (!quic_varint(p, len, &pos, &v) || v > len - pos)
			return false;
		pos += (size_t)v; /* token */
	}
	if (!quic_varint(p, len, &pos, &v) || v > len - pos)
		return false;
	h->pn_offset = pos;
	h->length = pos + (size_t)v;
	return true;
}

uint64_t quic_decode_pn(uint64_t largest, uint64_t truncated, unsigned pn_nbits)
{
	uint64_t expected = largest + 1;
	uint64_t win = (uint64_t)1 << pn_nbits;
	uint64_t hwin = win / 2;
	uint64_t mask = win - 1;
	uint64_t candidate = (expected & ~mask) | truncated;
	if (candidate + hwin <= expected && candidate < (((uint64_t)1 << 62) - win))
		return candidate + win;
	if (candidate > expected + hwin && candidate >= win)
		return candidate - win;
	return candidate;
}

bool quic_unprotect_header(const struct quic_keys *k, uint8_t *p, const struct quic_header *h,
			   uint64_t *truncated_pn, unsigned *pn_len)
{
	/* The sample starts 4 bytes past the packet number's start, whatever
	 * its real length (RFC 9001 5.4.2). */
	size_t sample_at = h->pn_offset + 4;
	if (h->length < sample_at + QUIC_SAMPLE_LEN)
		return false;
	uint8_t mask[5];
	if (!quic_hp_mask(k, p + sample_at, mask))
		return false;
	p[0] ^= mask[0] & (h->long_header ? 0x0f : 0x1f);
	unsigned n = (p[0] & 3) + 1;
	uint64_t pn = 0;
	for (unsigned i = 0; i < n; i++) {
		p[h->pn_offset + i] ^= mask[1 + i];
		pn = pn << 8 | p[h->pn_offset + i];
	}
	*truncated_pn = pn;
	*pn_len = n;
	return true;
}

/* Frames with only varint fields after the type: how many to skip. */
static int plain_fields(uint64_t type)
{
	switch (type) {
	case 0x01: /* PING */
	case 0x1e: /* HANDSHAKE_DONE */
	case 0x1f: /* IMMEDIATE_ACK (draft-ietf-quic-ack-frequency) */
		return 0;
	case 0x2f5: /* TIMESTAMP (draft-huitema-quic-ts): the timestamp */
		return 1;
	case 0xaf: /* ACK_FREQUENCY: sequence, threshold, max ack delay, reordering */
		return 4;
	case 0x10: /* MAX_DATA */
	case 0x12: /* MAX_STREAMS bidi */
	case 0x13: /* MAX_STREAMS uni */
	case 0x14: /* DATA_BLOCKED */
	case 0x16: /* STREAMS_BLOCKED bidi */
	case 0x17: /* STREAMS_BLOCKED uni */
	case 0x19: /* RETIRE_CONNECTION_ID */
		return 1;
	case 0x05: /* STOP_SENDING: stream, error */
	case 0x11: /* MAX_STREAM_DATA */
	case 0x15: /* STREAM_DATA_BLOCKED */
		return 2;
	default:
		return -1;
	}
}

static bool skip_varints(const uint8_t *p, size_t len, size_t *pos, int n)
{
	uint64_t v;
	for (int i = 0; i < n; i++)
		if (!quic_varint(p, len, pos, &v))
			return false;
	return true;
}

static bool ack_frame(const uint8_t *p, size_t len, size_t *pos, bool ecn)
{
	uint64_t range_count;
	/* largest, delay, range count, first range */
	size_t at = *pos;
	uint64_t v;
	if (!quic_varint(p, len, &at, &v) || !quic_varint(p, len, &at, &v) ||
	    !quic_varint(p, len, &at, &range_count) || !quic_varint(p, len, &at, &v))
		return false;
	if (range_count > len) /* each range takes at least two bytes */
		return false;
	for (uint64_t i = 0; i < range_count; i++)
		if (!skip_varints(p, len, &at, 2))
			return false;
	if (ecn && !skip_varints(p, len, &at, 3))
		return false;
	*pos = at;
	return true;
}

static bool take_bytes(size_t len, size_t *pos, uint64_t n, const uint8_t *p,
		       struct quic_frame *f)
{
	if (n > len - *pos)
		return false;
	f->data = p + *pos;
	f->len = (size_t)n;
	*pos += (size_t)n;
	return true;
}

int quic_next_frame(const uint8_t *p, size_t len, size_t *pos, struct quic_frame *f)
{
	memset(f, 0, sizeof *f);
	/* PADDING runs are skipped in one go. */
	while (*pos < len && p[*pos] == 0)
		(*pos)++;
	if (*pos >= len)
		return 0;
	uint64_t type, v;
	if (!quic_varint(p, len, pos, &type))
		return -1;
	f->type = type;
	int n = plain_fields(type);
	if (n >= 0)
		return skip_varints(p, len, pos, n) ? 1 : -1;
	if (type >= 0x08 && type <= 0x0f) {
		f->type = QUIC_FRAME_STREAM;
		if (!quic_varint(p, len, pos, &f->stream_id))
			return -1;
		if ((type & 0x04) && !quic_varint(p, len, pos, &f->offset))
			return -1;
		uint64_t n_bytes = len - *pos;
		if ((type & 0x02) && !quic_varint(p, len, pos, &n_bytes))
			return -1;
		f->fin = type & 0x01;
		if (!take_bytes(len, pos, n_bytes, p, f))
			return -1;
		/* offset + length must stay below 2^62 (RFC 9000 19.8) */
		return f->offset + f->len < ((uint64_t)1 << 62) ? 1 : -1;
	}
	switch (type) {
	case 0x02:
	case 0x03:
		return ack_frame(p, len, pos, type == 0x03) ? 1 : -1;
	case QUIC_FRAME_RESET_STREAM:
		return quic_varint(p, len, pos, &f->stream_id) && quic_varint(p, len, pos, &v) &&
			       quic_varint(p, len, pos, &f->final_size)
			       ? 1
			       : -1;
	case QUIC_FRAME_CRYPTO:
		if (!quic_varint(p, len, pos, &f->offset) || !quic_varint(p, len, pos, &v) ||
		    !take_bytes(len, pos, v, p, f))
			return -1;
		return f->offset + f->len < ((uint64_t)1 << 62) ? 1 : -1;
	case 0x07: /* NEW_TOKEN */
		return quic_varint(p, len, pos, &v) && take_bytes(len, pos, v, p, f) ? 1 : -1;
	case QUIC_FRAME_NEW_CONNECTION_ID: {
		uint64_t retire;
		if (!quic_varint(p, len, pos, &f->sequence) || !quic_varint(p, len, pos, &retire) ||
		    *pos >= len)
			return -1;
		uint8_t cid_len = p[(*pos)++];
		if (cid_len < 1 || cid_len > QUIC_CID_MAX || !take_bytes(len, pos, cid_len, p, f))
			return -1;
		if (len - *pos < 16) /* stateless reset token */
			return -1;
		*pos += 16;
		return 1;
	}
	case 0x1a: /* PATH_CHALLENGE */
	case 0x1b: /* PATH_RESPONSE */
		if (len - *pos < 8)
			return -1;
		*pos += 8;
		return 1;
	case 0x1c: /* CONNECTION_CLOSE (transport): error, frame type, reason */
	case 0x1d: /* CONNECTION_CLOSE (application): error, reason */
		f->type = QUIC_FRAME_CONNECTION_CLOSE;
		if (!quic_varint(p, len, pos, &v) || (type == 0x1c && !quic_varint(p, len, pos, &v)) ||
		    !quic_varint(p, len, pos, &v) || !take_bytes(len, pos, v, p, f))
			return -1;
		return 1;
	case 0x30: /* DATAGRAM (RFC 9221) without length: the rest */
		return take_bytes(len, pos, len - *pos, p, f) ? 1 : -1;
	case 0x31: /* DATAGRAM with length */
		return quic_varint(p, len, pos, &v) && take_bytes(len, pos, v, p, f) ? 1 : -1;
	default:
		return -1;
	}
}
