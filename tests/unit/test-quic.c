/* test-quic.c — QUIC packet protection against the RFCs' own samples
 * (RFC 9001 Appendix A for v1, RFC 9369 Appendix A for v2): Initial
 * secrets and keys, the client and server Initial packets opened (header
 * protection, packet number, AEAD, CRYPTO frames, the ClientHello and
 * ServerHello read from them), the ChaCha20-Poly1305 short header packet,
 * the key update secret; then the frame parser and packet-number recovery
 * on edge cases, damaged packets, and a connection fed garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quic/quic_conn.h"
#include "quic/quic_crypto.h"
#include "quic/quic_packet.h"

/* The samples' bytes, copied from the RFC texts (hexadecimal). */
static const char V1_CLIENT_INITIAL_CRYPTO[] =
	"060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
	"04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
	"616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
	"04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
	"baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
	"0d0010000e0403050306030203080408050806002d00020101001c0002400100"
	"3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
	"75300901100f088394c8f03e51570806048000ffff";

static const char V1_CLIENT_INITIAL_PACKET[] =
	"c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
	"d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
	"1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
	"8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
	"30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
	"457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
	"4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
	"4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
	"485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
	"059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
	"7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
	"9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
	"be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
	"68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
	"c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
	"f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
	"291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
	"25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
	"14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
	"ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
	"e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
	"c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
	"203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
	"cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
	"fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
	"a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
	"90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
	"162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
	"40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
	"6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
	"8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
	"be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
	"54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
	"760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
	"f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
	"056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
	"7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
	"e221af44860018ab0856972e194cd934";

static const char V1_SERVER_INITIAL_PAYLOAD[] =
	"02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
	"88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
	"0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
	"020304";

static const char V1_SERVER_INITIAL_PACKET[] =
	"cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
	"5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
	"dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
	"022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
	"2158407dd074ee";

static const char V1_CHACHA_PACKET[] =
	"4cfe4189655e5cd55c41f69080575d7999c25a5bfb";

static const char V2_CLIENT_INITIAL_CRYPTO[] =
	"060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
	"04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
	"616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
	"04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
	"baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
	"0d0010000e0403050306030203080408050806002d00020101001c0002400100"
	"3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
	"75300901100f088394c8f03e51570806048000ffff";

static const char V2_CLIENT_INITIAL_PACKET[] =
	"d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
	"dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
	"9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
	"250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
	"12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
	"cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
	"18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
	"12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
	"d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
	"6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
	"bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
	"636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
	"ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
	"16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
	"4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
	"fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
	"8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
	"14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
	"9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
	"abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
	"80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
	"848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
	"d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
	"c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
	"7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
	"f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
	"10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
	"3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
	"06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
	"8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
	"34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
	"e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
	"5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
	"8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
	"d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
	"6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
	"9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
	"a18b2faa745b6fe189cf772a9f84cbfc";

static const char V2_SERVER_INITIAL_PAYLOAD[] =
	"02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
	"88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
	"0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
	"020304";

static const char V2_SERVER_INITIAL_PACKET[] =
	"dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
	"baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
	"f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
	"c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
	"4bed8521e2e140";

static const char V2_CHACHA_PACKET[] =
	"5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba";


static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = strlen(h) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, const char *want)
{
	uint8_t w[64];
	size_t n = unhex(want, w, sizeof w);
	assert_memory_equal(got, w, n);
}

static const uint8_t rfc_dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

static void test_initial_secrets_v1(void **state)
{
	(void)state;
	uint8_t cs[32], ss[32];
	assert_true(quic_initial_secrets(QUIC_VERSION_1, rfc_dcid, 8, cs, ss));
	assert_hex(cs, "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
	assert_hex(ss, "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b");
	struct quic_keys k = {0};
	assert_true(quic_keys_set(&k, QUIC_VERSION_1, 0x1301, cs, 32));
	assert_hex(k.iv, "fa044b2f42a3fd3b46fb255c");
	assert_hex(k.hp_key, "9f50449e04a0e810283a1e9933adedd2");
	assert_true(quic_keys_set(&k, QUIC_VERSION_1, 0x1301, ss, 32));
	assert_hex(k.iv, "0ac1493ca1905853b0bba03e");
	assert_hex(k.hp_key, "c206b8d9b9f0f37644430b490eeaa314");
	quic_keys_clear(&k);
}

static void test_initial_secrets_v2(void **state)
{
	(void)state;
	uint8_t cs[32], ss[32];
	assert_true(quic_initial_secrets(QUIC_VERSION_2, rfc_dcid, 8, cs, ss));
	assert_hex(cs, "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b");
	assert_hex(ss, "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1");
	struct quic_keys k = {0};
	assert_true(quic_keys_set(&k, QUIC_VERSION_2, 0x1301, cs, 32));
	assert_hex(k.iv, "91f73e2351d8fa91660e909f");
	assert_hex(k.hp_key, "45b95e15235d6f45a6b19cbcb0294ba9");
	quic_keys_clear(&k);
	/* The draft number ngtcp2 0.12 speaks has a salt of its own. */
	uint8_t dcs[32], dss[32];
	assert_true(quic_initial_secrets(QUIC_VERSION_2_DRAFT, rfc_dcid, 8, dcs, dss));
	assert_memory_not_equal(dcs, cs, 32);
	assert_false(quic_initial_secrets(0xff00001d, rfc_dcid, 8, dcs, dss));
}

/* Opens a protected long header packet with the Initial keys of `side`. */
static size_t open_initial(uint32_t version, const char *hex, int side, uint64_t want_pn,
			   uint8_t *plain)
{
	static uint8_t pkt[1500];
	size_t len = unhex(hex, pkt, sizeof pkt);
	struct quic_header h;
	assert_true(quic_parse_header(pkt, len, 0, &h));
	assert_int_equal(h.type, QUIC_PT_INITIAL);
	assert_int_equal(h.version, version);
	assert_int_equal(h.length, len);
	uint8_t cs[32], ss[32];
	assert_true(quic_initial_secrets(version, rfc_dcid, 8, cs, ss));
	struct quic_keys k = {0};
	assert_true(quic_keys_set(&k, version, 0x1301, side == 0 ? cs : ss, 32));
	uint64_t tpn;
	unsigned pn_len;
	assert_true(quic_unprotect_header(&k, pkt, &h, &tpn, &pn_len));
	uint64_t pn = quic_decode_pn(0, tpn, 8 * pn_len);
	assert_int_equal(pn, want_pn);
	size_t hdr = h.pn_offset + pn_len;
	assert_true(quic_aead_open(&k, pn, pkt, hdr, pkt + hdr, len - hdr, plain));
	/* One flipped ciphertext bit: the tag no longer verifies. */
	pkt[hdr + 3] ^= 1;
	uint8_t scratch[1500];
	assert_false(quic_aead_open(&k, pn, pkt, hdr, pkt + hdr, len - hdr, scratch));
	quic_keys_clear(&k);
	return len - hdr - QUIC_TAG_LEN;
}

static void check_client_initial(uint32_t version, const char *packet_hex, const char *crypto_hex)
{
	uint8_t plain[1500], want[1500];
	size_t n = open_initial(version, packet_hex, 0, 2, plain);
	assert_int_equal(n, 1162);
	size_t wn = unhex(crypto_hex, want, sizeof want);
	assert_memory_equal(plain, want, wn);
	for (size_t i = wn; i < n; i++)
		assert_int_equal(plain[i], 0); /* PADDING */
	size_t pos = 0;
	struct quic_frame f;
	assert_int_equal(quic_next_frame(plain, n, &pos, &f), 1);
	assert_int_equal(f.type, QUIC_FRAME_CRYPTO);
	assert_int_equal(f.offset, 0);
	assert_int_equal(f.len, 241);
	assert_int_equal(f.data[0], 1); /* ClientHello */
	assert_int_equal(quic_next_frame(plain, n, &pos, &f), 0);
}

static void test_client_initial_v1(void **state)
{
	(void)state;
	check_client_initial(QUIC_VERSION_1, V1_CLIENT_INITIAL_PACKET, V1_CLIENT_INITIAL_CRYPTO);
}

static void test_client_initial_v2(void **state)
{
	(void)state;
	check_client_initial(QUIC_VERSION_2, V2_CLIENT_INITIAL_PACKET, V2_CLIENT_INITIAL_CRYPTO);
}

static void check_server_initial(uint32_t version, const char *packet_hex, const char *payload_hex)
{
	uint8_t plain[1500], want[1500];
	size_t n = open_initial(version, packet_hex, 1, 1, plain);
	size_t wn = unhex(payload_hex, want, sizeof want);
	assert_int_equal(n, wn);
	assert_memory_equal(plain, want, n);
	size_t pos = 0;
	struct quic_frame f;
	assert_int_equal(quic_next_frame(plain, n, &pos, &f), 1); /* ACK */
	assert_int_equal(quic_next_frame(plain, n, &pos, &f), 1);
	assert_int_equal(f.type, QUIC_FRAME_CRYPTO);
	assert_int_equal(f.data[0], 2); /* ServerHello */
	assert_int_equal(quic_next_frame(plain, n, &pos, &f), 0);
}

static void test_server_initial_v1(void **state)
{
	(void)state;
	check_server_initial(QUIC_VERSION_1, V1_SERVER_INITIAL_PACKET, V1_SERVER_INITIAL_PAYLOAD);
}

static void test_server_initial_v2(void **state)
{
	(void)state;
	check_server_initial(QUIC_VERSION_2, V2_SERVER_INITIAL_PACKET, V2_SERVER_INITIAL_PAYLOAD);
}

/* RFC A.5: a server 1-RTT packet with an empty DCID, one PING frame. */
static void check_chacha(uint32_t version, const char *packet_hex, const char *ku_hex)
{
	uint8_t secret[32], pkt[64], plain[64];
	unhex("9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b", secret, 32);
	size_t len = unhex(packet_hex, pkt, sizeof pkt);
	struct quic_keys k = {0}, next = {0};
	assert_true(quic_keys_set(&k, version, 0x1303, secret, 32));
	struct quic_header h;
	assert_true(quic_parse_header(pkt, len, 0, &h));
	assert_int_equal(h.type, QUIC_PT_1RTT);
	uint64_t tpn;
	unsigned pn_len;
	assert_true(quic_unprotect_header(&k, pkt, &h, &tpn, &pn_len));
	assert_int_equal(pn_len, 3);
	assert_int_equal(pkt[0], 0x42);
	uint64_t pn = quic_decode_pn(654360563, tpn, 24);
	assert_int_equal(pn, 654360564);
	size_t hdr = h.pn_offset + pn_len;
	assert_true(quic_aead_open(&k, pn, pkt, hdr, pkt + hdr, len - hdr, plain));
	assert_int_equal(len - hdr - QUIC_TAG_LEN, 1);
	assert_int_equal(plain[0], 0x01); /* PING */
	/* The next key phase's secret is "ku" of this one; its header
	 * protection key stays. */
	assert_true(quic_keys_update(&k, &next));
	assert_hex(next.secret, ku_hex);
	assert_memory_equal(next.hp_key, k.hp_key, 32);
	assert_memory_not_equal(next.iv, k.iv, 12);
	quic_keys_clear(&k);
	quic_keys_clear(&next);
}

static void test_chacha_v1(void **state)
{
	(void)state;
	check_chacha(QUIC_VERSION_1, V1_CHACHA_PACKET,
		     "1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9");
}

static void test_chacha_v2(void **state)
{
	(void)state;
	check_chacha(QUIC_VERSION_2, V2_CHACHA_PACKET,
		     "c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88");
}

/* A connection fed the two Initials reads the ClientHello's random and the
 * suite of the ServerHello; with no key log nothing else opens. */
static void check_conn(uint32_t version, const char *client_hex, const char *server_hex)
{
	uint8_t c[1500], s[1500];
	size_t cl = unhex(client_hex, c, sizeof c), sl = unhex(server_hex, s, sizeof s);
	assert_true(quic_looks_like_initial(c, cl));
	assert_false(quic_looks_like_initial(s, sl)); /* under 1200 bytes */
	struct quic_conn *q = quic_conn_new(NULL);
	quic_conn_datagram(q, true, c, cl, 1, 0, NULL);
	quic_conn_datagram(q, false, s, sl, 2, 0, NULL);
	struct quic_info info;
	quic_conn_info(q, &info);
	assert_int_equal(info.version, version);
	assert_int_equal(info.packets_opened, 2);
	assert_int_equal(info.packets_failed, 0);
	assert_true(info.handshake_seen);
	assert_int_equal(info.cipher_suite, 0x1301);
	assert_false(info.decrypted);
	assert_string_equal(info.reason, "no-key");
	assert_int_equal(info.opened_bytes[0], cl);
	assert_int_equal(info.opened_bytes[1], sl);
	quic_conn_free(q);
}

static void test_conn_initials_v1(void **state)
{
	(void)state;
	check_conn(QUIC_VERSION_1, V1_CLIENT_INITIAL_PACKET, V1_SERVER_INITIAL_PACKET);
}

static void test_conn_initials_v2(void **state)
{
	(void)state;
	check_conn(QUIC_VERSION_2, V2_CLIENT_INITIAL_PACKET, V2_SERVER_INITIAL_PACKET);
}

/* RFC 9000 A.3's example, and wrap-around both ways. */
static void test_decode_pn(void **state)
{
	(void)state;
	assert_int_equal(quic_decode_pn(0xa82f30ea, 0x9b32, 16), 0xa82f9b32);
	assert_int_equal(quic_decode_pn(0, 0, 8), 0);
	assert_int_equal(quic_decode_pn(255, 0x00, 8), 256);
	assert_int_equal(quic_decode_pn(300, 0xff, 8), 255);
	assert_int_equal(quic_decode_pn(65535, 0x0001, 16), 65537);
}

static void test_varint(void **state)
{
	(void)state;
	/* RFC 9000 A.1's examples */
	static const struct {
		const char *hex;
		uint64_t v;
	} cases[] = {{"c2197c5eff14e88c", 151288809941952652ull},
		     {"9d7f3e7d", 494878333},
		     {"7bbd", 15293},
		     {"25", 37},
		     {"4025", 37}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t b[8];
		size_t n = unhex(cases[i].hex, b, sizeof b), pos = 0;
		uint64_t v;
		assert_true(quic_varint(b, n, &pos, &v));
		assert_int_equal(v, cases[i].v);
		assert_int_equal(pos, n);
		pos = 0;
		assert_false(n > 1 && quic_varint(b, n - 1, &pos, &v));
	}
}

static void test_frames(void **state)
{
	(void)state;
	/* STREAM with offset, length and FIN; NEW_CONNECTION_ID; PING; an
	 * ACK with one extra range; then a frame type we do not know. */
	uint8_t p[128];
	size_t n = unhex("0f0440100568656c6c6f"            /* STREAM id 4 off 16 "hello" fin */
			 "18010004a1b2c3d4"                 /* NEW_CONNECTION_ID seq 1, cid */
			 "00000000000000000000000000000000" /* reset token */
			 "01"                               /* PING */
			 "020a0001020100"                   /* ACK 10, delay 0, 1 more range */
			 "4021",                            /* type 0x21 */
			 p, sizeof p);
	size_t pos = 0;
	struct quic_frame f;
	assert_int_equal(quic_next_frame(p, n, &pos, &f), 1);
	assert_int_equal(f.type, QUIC_FRAME_STREAM);
	assert_int_equal(f.stream_id, 4);
	assert_int_equal(f.offset, 16);
	assert_int_equal(f.len, 5);
	assert_true(f.fin);
	assert_memory_equal(f.data, "hello", 5);
	assert_int_equal(quic_next_frame(p, n, &pos, &f), 1);
	assert_int_equal(f.type, QUIC_FRAME_NEW_CONNECTION_ID);
	assert_int_equal(f.len, 4);
	assert_int_equal(quic_next_frame(p, n, &pos, &f), 1);
	assert_int_equal(quic_next_frame(p, n, &pos, &f), 1);
	assert_int_equal(f.type, 2);
	assert_int_equal(quic_next_frame(p, n, &pos, &f), -1);
	/* A STREAM length past the payload's end. */
	n = unhex("0a0008616263", p, sizeof p);
	pos = 0;
	assert_int_equal(quic_next_frame(p, n, &pos, &f), -1);
}

/* Every prefix of a real packet and random bytes: counted, never fatal. */
static void test_garbage(void **state)
{
	(void)state;
	uint8_t c[1500];
	size_t cl = unhex(V1_CLIENT_INITIAL_PACKET, c, sizeof c);
	struct quic_conn *q = quic_conn_new(NULL);
	for (size_t n = 1; n < cl; n += 37)
		quic_conn_datagram(q, true, c, n, n, 0, NULL);
	srand(7);
	for (int i = 0; i < 2000; i++) {
		uint8_t r[300];
		size_t n = 1 + (size_t)rand() % sizeof r;
		for (size_t k = 0; k < n; k++)
			r[k] = (uint8_t)rand();
		quic_conn_datagram(q, i & 1, r, n, 0, 0, NULL);
	}
	struct quic_info info;
	quic_conn_info(q, &info);
	assert_int_equal(info.packets_opened, 0);
	assert_true(info.packets_malformed + info.packets_failed + info.packets_unopened > 0);
	quic_conn_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_secrets_v1),
		cmocka_unit_test(test_initial_secrets_v2),
		cmocka_unit_test(test_client_initial_v1),
		cmocka_unit_test(test_client_initial_v2),
		cmocka_unit_test(test_server_initial_v1),
		cmocka_unit_test(test_server_initial_v2),
		cmocka_unit_test(test_chacha_v1),
		cmocka_unit_test(test_chacha_v2),
		cmocka_unit_test(test_conn_initials_v1),
		cmocka_unit_test(test_conn_initials_v2),
		cmocka_unit_test(test_decode_pn),
		cmocka_unit_test(test_varint),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
