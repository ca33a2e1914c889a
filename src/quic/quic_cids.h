/*
 * quic_cids.h — the connection IDs of every QUIC connection of an audit,
 * so that a flow that starts with a short header packet (a client that
 * changed address or port: NAT rebinding, a network change, a move to the
 * server's preferred address) is found to be an existing connection and
 * decrypted with its keys (RFC 9000 section 9). An ID maps to its owner,
 * an opaque pointer; owners remove their IDs before they go away.
 */
#ifndef PA_QUIC_CIDS_H
#define PA_QUIC_CIDS_H

#include "privaudit.h"

struct quic_cids;

struct quic_cids *quic_cids_new(void);
void quic_cids_free(struct quic_cids *m);

/* side: which endpoint the ID addresses (0 client, 1 server). */
void quic_cids_put(struct quic_cids *m, const uint8_t *cid, size_t len, void *owner, int side);
/* Removes cid when it maps to owner. */
void quic_cids_drop(struct quic_cids *m, const uint8_t *cid, size_t len, const void *owner);
/* The owner of the connection ID a short header packet at p starts with
 * (after its first byte), trying every ID length in use, and the side it
 * addresses (the packet's receiver); NULL when none. */
void *quic_cids_find_short(const struct quic_cids *m, const uint8_t *p, size_t len, int *side);
size_t quic_cids_count(const struct quic_cids *m);

#endif
