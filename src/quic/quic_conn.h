/*
 * quic_conn.h — one QUIC connection seen from the wire, decrypted with
 * the TLS 1.3 secrets of the key log (RFC 9001): Initial packets with keys
 * from the client's first Destination Connection ID, Handshake, 0-RTT and
 * 1-RTT packets with the key log's secrets of the connection's client
 * random (read from the ClientHello in the Initial CRYPTO frames).
 *
 * A datagram's coalesced packets are each opened in turn; header
 * protection is removed and packet numbers recovered per number space;
 * 1-RTT key updates are followed by the key phase bit (a reordered packet
 * of the previous phase still opens). Short headers are matched against
 * the connection IDs each side announced (long header Source CIDs,
 * NEW_CONNECTION_ID frames), so a change of connection ID is followed.
 *
 * CRYPTO frames are reassembled per number space and direction, STREAM
 * frames per stream (stream/tcp_stream.c: the same bounded out-of-order
 * buffer, retransmission and gap accounting as TCP). In-order stream
 * bytes leave through a struct quic_sink.
 *
 * A flow holds at most QUIC_STREAMS_MAX open streams per direction, each
 * buffering at most QUIC_STREAM_BUFFER out-of-order bytes: the state stays
 * bounded however the peer behaves; what does not fit is counted.
 */
#ifndef PA_QUIC_CONN_H
#define PA_QUIC_CONN_H

#include "privaudit.h"

#define QUIC_STREAMS_MAX 16
#define QUIC_STREAM_BUFFER (64u * 1024)

struct keylog;

struct quic_sink {
	/* In-order bytes of one stream (data NULL: len bytes there were never
	 * captured); fin: the stream ends after them. */
	void (*stream)(void *ctx, bool from_client, uint64_t stream_id, const uint8_t *data,
		       size_t len, bool fin, uint64_t packet, int64_t ts_us);
	void *ctx;
};

/* By direction, index 0 from the client (the flow's initiator), 1 from the server. */
struct quic_info {
	uint32_t version;          /* of the last long header packet, 0 when none */
	uint16_t cipher_suite;     /* from the ServerHello, 0 when not seen */
	char alpn[32];             /* from EncryptedExtensions, "" when not seen */
	bool handshake_seen;       /* a ClientHello was read */
	bool decrypted;            /* Handshake or 1-RTT packets opened with key log secrets */
	uint64_t packets_opened;   /* Initial packets included */
	uint64_t packets_failed;   /* keys there, authentication failed */
	uint64_t packets_unopened; /* no keys: stays encrypted */
	uint64_t packets_malformed;
	uint64_t key_updates;
	uint64_t opened_bytes[2];  /* datagram bytes of packets that opened */
	uint64_t stream_bytes[2];  /* STREAM bytes delivered in order */
	uint64_t stream_gap[2];    /* STREAM bytes never captured (holes at the end) */
	uint64_t stream_truncated[2]; /* STREAM bytes past the reassembly bounds */
	uint64_t streams_evicted;  /* more open streams than QUIC_STREAMS_MAX */
	const char *reason;        /* why nothing beyond Initial opened: "no-key",
				    * "bad-key", "handshake-incomplete",
				    * "unsupported-version", NULL */
};

struct quic_conn;

struct quic_conn *quic_conn_new(struct keylog *kl);
void quic_conn_free(struct quic_conn *c);

/* One UDP payload of the connection (from_client: sent by the client).
 * Returns how many of its bytes were in packets that opened. */
size_t quic_conn_datagram(struct quic_conn *c, bool from_client, const uint8_t *data, size_t len,
			  uint64_t packet, int64_t ts_us, const struct quic_sink *sink);
/* Keeps map up to date with the connection's IDs (both sides'), each
 * mapping to owner, until quic_conn_free. */
struct quic_cids;
void quic_conn_register(struct quic_conn *c, struct quic_cids *map, void *owner);
/* End of the flow: streams with holes deliver what they hold (holes as gaps). */
void quic_conn_finish(struct quic_conn *c, const struct quic_sink *sink);
void quic_conn_info(const struct quic_conn *c, struct quic_info *out);

/* A client's first datagram: a long header Initial packet of a version we
 * know, in a datagram of at least 1200 bytes (RFC 9000 14.1). */
bool quic_looks_like_initial(const uint8_t *data, size_t len);

/* Bytes of a connection's state with no stream open (memory accounting). */
size_t quic_conn_state_size(void);

#endif
