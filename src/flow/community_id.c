/* community_id.c — Community ID v1 (see community_id.h); SHA-1 from OpenSSL. */
#include "flow/community_id.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

/* Lower endpoint first: by address bytes, then by port (the spec's order). */
static bool src_is_lower(const struct pa_addr *src, uint16_t sport, const struct pa_addr *dst,
			 uint16_t dport, size_t len)
{
	int c = memcmp(src->bytes, dst->bytes, len);
	return c < 0 || (c == 0 && sport <= dport);
}

bool community_id_v1(const struct pa_addr *src, uint16_t sport, const struct pa_addr *dst,
		     uint16_t dport, uint8_t proto, uint16_t seed, char out[COMMUNITY_ID_LEN])
{
	out[0] = 0;
	if (!src->family || src->family != dst->family || proto == 1 || proto == 58)
		return false;
	size_t alen = src->family == 4 ? 4 : 16;
	bool ports = proto == 6 || proto == 17 || proto == 132;
	if (!ports)
		sport = dport = 0; /* the order then rests on the addresses alone */
	if (!src_is_lower(src, sport, dst, dport, alen)) {
		const struct pa_addr *ta = src;
		src = dst;
		dst = ta;
		uint16_t tp = sport;
		sport = dport;
		dport = tp;
	}
	uint8_t buf[2 + 16 + 16 + 2 + 4];
	size_t n = 0;
	buf[n++] = (uint8_t)(seed >> 8);
	buf[n++] = (uint8_t)seed;
	memcpy(buf + n, src->bytes, alen);
	n += alen;
	memcpy(buf + n, dst->bytes, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0; /* padding */
	if (ports) {
		buf[n++] = (uint8_t)(sport >> 8);
		buf[n++] = (uint8_t)sport;
		buf[n++] = (uint8_t)(dport >> 8);
		buf[n++] = (uint8_t)dport;
	}
	uint8_t digest[SHA_DIGEST_LENGTH];
	SHA1(buf, n, digest);
	memcpy(out, "1:", 2);
	EVP_EncodeBlock((unsigned char *)out + 2, digest, sizeof digest); /* 28 chars + NUL */
	return true;
}
