/*
 * community_id.h — the Community ID v1 flow hash (github.com/corelight/
 * community-id-spec), so that flows.jsonl and findings can be joined with
 * Zeek, Suricata, Arkime and Wireshark records of the same traffic.
 *
 * "1:" + base64(SHA-1(seed, lower endpoint address, higher endpoint
 * address, protocol, 0, lower port, higher port)), endpoints ordered by
 * address, then port, so both directions give the same value. Ports are
 * part of it for TCP, UDP and SCTP only.
 */
#ifndef PA_COMMUNITY_ID_H
#define PA_COMMUNITY_ID_H

#include "privaudit.h"

#define COMMUNITY_ID_LEN 32 /* "1:" + 28 base64 characters + NUL, rounded up */

/* false (out = "") for ICMP and ICMPv6, whose value needs the message type
 * and code, which flows do not keep, and for unset addresses. */
bool community_id_v1(const struct pa_addr *src, uint16_t sport, const struct pa_addr *dst,
		     uint16_t dport, uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_LEN]);

#endif
