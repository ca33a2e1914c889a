/*
 * fuzz-tls.c — the TLS record and handshake parser and the decryptor
 * (tls/tls_session.c) on both directions of a connection.
 *
 * Input: [u16 big-endian key log length][key log text][chunks...], each
 * chunk [u8 flags][u16 length][bytes]: flags bit 0 = from the server, bit 1
 * = a gap of `length` bytes instead of data. The seeds are real connections
 * (tests/data/tls) with their own key logs, so mutations run deep into
 * decryption with matching secrets; an empty key log exercises the no-key
 * paths. Plaintext handed out is read in full, so ASan sees any overrun.
 */
#include <stdint.h>
#include <string.h>

#include "tls/keylog.h"
#include "tls/tls_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void plaintext(void *ctx, bool from_client, const uint8_t *p, size_t len, uint64_t packet,
		      int64_t ts_us)
{
	uint8_t x = 0;
	for (size_t i = 0; i < len; i++)
		x ^= p[i];
	sink = x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t kl_len = (size_t)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	if (kl_len > size)
		kl_len = size;
	struct keylog *kl = keylog_new();
	keylog_add_text(kl, "fuzz", (const char *)data, kl_len, NULL);
	/* Odd first byte of the key log length: a growing key log, whose
	 * sessions hold records and retry. */
	keylog_set_growing(kl, kl_len & 1);
	data += kl_len;
	size -= kl_len;

	struct tls_session *s = tls_session_new(kl);
	uint64_t packet = 1;
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t n = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (flags & 2) {
			tls_session_gap(s, !(flags & 1), n);
			continue;
		}
		if (n > size)
			n = size;
		tls_session_data(s, !(flags & 1), data, n, packet++, 0, plaintext, NULL);
		data += n;
		size -= n;
	}
	tls_session_retry(s, plaintext, NULL);
	struct tls_info info;
	tls_session_info(s, &info);
	sink = (uint8_t)(info.records_decrypted + (info.reason ? info.reason[0] : 0) +
			 (info.cipher_name ? info.cipher_name[0] : 0) + info.alpn[0]);
	tls_session_free(s);
	keylog_free(kl);
	return 0;
}
