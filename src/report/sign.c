/*
 * sign.c — manifest signatures (OpenSSL EVP) and RFC 3161 time-stamp
 * requests and replies (OpenSSL TS), sign.h.
 */
#include "report/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "report/manifest.h"

/* GB/T 32918 / GM/T 0009 default signer identity, what `openssl pkeyutl`
 * and most SM2 tools use when none is agreed. */
#define SM2_DEFAULT_ID "1234567812345678"
#define MAX_SIGNED_FILE (256u << 20)

struct pa_signer {
	EVP_PKEY *key;
	char algorithm[16];
	char pub_sha256[65];
	char *pub_pem;
};

static void openssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();
	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "no detail");
	ERR_clear_error();
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

/* "ed25519", "ed448", "sm2", "ec", "rsa"; NULL for a key that cannot sign. */
static const char *key_algorithm(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519"))
		return "ed25519";
	if (EVP_PKEY_is_a(k, "ED448"))
		return "ed448";
	if (EVP_PKEY_is_a(k, "SM2"))
		return "sm2";
	if (EVP_PKEY_is_a(k, "EC"))
		return "ecdsa-sha256";
	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS"))
		return "rsa-sha256";
	return NULL;
}

/* SHA-256 of the DER SubjectPublicKeyInfo: the key's fingerprint. */
static bool pub_fingerprint(EVP_PKEY *k, char out[65])
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(k, &der);
	if (n <= 0)
		return false;
	unsigned char md[32];
	unsigned int mdlen = 0;
	bool ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1;
	OPENSSL_free(der);
	if (ok)
		hex(md, 32, out);
	return ok;
}

/* A digest-sign (or verify) context for k: the message itself for EdDSA,
 * SM3 with the signer identity for SM2, SHA-256 otherwise. */
static EVP_MD_CTX *sign_ctx(EVP_PKEY *k, bool verify)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md)
		return NULL;
	const EVP_MD *digest = EVP_sha256();
	EVP_PKEY_CTX *pctx = NULL;
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448")) {
		digest = NULL;
	} else if (EVP_PKEY_is_a(k, "SM2")) {
		digest = EVP_sm3();
		pctx = EVP_PKEY_CTX_new(k, NULL);
		if (!pctx || EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID, strlen(SM2_DEFAULT_ID)) <= 0) {
			EVP_PKEY_CTX_free(pctx);
			EVP_MD_CTX_free(md);
			return NULL;
		}
		EVP_MD_CTX_set_pkey_ctx(md, pctx); /* md owns it from here */
	}
	int rc = verify ? EVP_DigestVerifyInit(md, NULL, digest, NULL, k)
			: EVP_DigestSignInit(md, NULL, digest, NULL, k);
	if (rc != 1) {
		EVP_MD_CTX_free(md);
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	return md;
}

static void free_ctx(EVP_MD_CTX *md)
{
	if (!md)
		return;
	EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(md);
	bool own = pctx && EVP_PKEY_is_a(EVP_PKEY_CTX_get0_pkey(pctx), "SM2");
	EVP_MD_CTX_free(md);
	if (own)
		EVP_PKEY_CTX_free(pctx);
}

struct pa_signer *pa_signer_load(const char *key_path, struct pa_error *err)
{
	FILE *f = fopen(key_path, "r");
	if (!f) {
		pa_error_set(err, "%s: %s", key_path, strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k) {
		char why[256];
		openssl_reason(why, sizeof why);
		pa_error_set(err, "%s: not a PEM private key (%s)", key_path, why);
		return NULL;
	}
	const char *alg = key_algorithm(k);
	if (!alg) {
		pa_error_set(err, "%s: a %s key cannot sign; use an Ed25519, Ed448, SM2, EC or RSA key",
			     key_path, EVP_PKEY_get0_type_name(k));
		EVP_PKEY_free(k);
		return NULL;
	}
	struct pa_signer *s = pa_xcalloc(1, sizeof *s);
	s->key = k;
	snprintf(s->algorithm, sizeof s->algorithm, "%s", alg);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	if (!pub_fingerprint(k, s->pub_sha256) || !b || PEM_write_bio_PUBKEY(b, k) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0) {
		pa_error_set(err, "%s: cannot encode its public key", key_path);
		BIO_free(b);
		pa_signer_free(s);
		return NULL;
	}
	s->pub_pem = pa_xmalloc((size_t)n + 1);
	memcpy(s->pub_pem, data, (size_t)n);
	s->pub_pem[n] = 0;
	BIO_free(b);
	return s;
}

void pa_signer_free(struct pa_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	free(s->pub_pem);
	free(s);
}

json_t *pa_signer_json(const struct pa_signer *s)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "algorithm", s->algorithm,
			 "public_key_sha256", s->pub_sha256, "signature_file", MANIFEST_SIG_FILE,
			 "public_key_file", MANIFEST_PUBKEY_FILE, "timestamp_request_file",
			 MANIFEST_TSQ_FILE);
}

/* A regular file of dir, read whole: no symbolic link followed, nothing
 * but a regular file opened (a FIFO or a device would block or never end). */
static unsigned char *read_bundle_file(const char *dir, const char *name, size_t *len,
				       char *why, size_t why_len)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		snprintf(why, why_len, "%s", errno == ELOOP ? "a symbolic link" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_SIGNED_FILE) {
		snprintf(why, why_len, "%s", S_ISREG(st.st_mode) ? "too large" : "not a regular file");
		close(fd);
		return NULL;
	}
	unsigned char *buf = pa_xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		snprintf(why, why_len, "short read");
		free(buf);
		return NULL;
	}
	*len = got;
	return buf;
}

static bool write_file(const char *dir, const char *name, const void *data, size_t len,
		       struct pa_error *err)
{
	char path[4400];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(data, 1, len, f) == len;
	ok = f && fflush(f) == 0 && ok;
	int saved = errno;
	if (f && fclose(f) != 0 && ok) {
		saved = errno;
		ok = false;
	}
	if (!ok)
		pa_error_set(err, "%s: cannot write: %s", path, strerror(saved));
	return ok;
}

/* An RFC 3161 TimeStampReq over SHA-256(data): version 1, a random nonce,
 * the TSA's certificate asked for; DER. */
static bool write_ts_request(const char *dir, const unsigned char *data, size_t len,
			     struct pa_error *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	unsigned char nonce_bytes[8];
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = NULL;
	BIGNUM *bn = NULL;
	unsigned char *der = NULL;
	int der_len = 0;
	bool ok = req && imprint && alg && EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
		  RAND_bytes(nonce_bytes, sizeof nonce_bytes) == 1;
	nonce_bytes[0] &= 0x7f; /* positive, as openssl ts makes it */
	ok = ok && TS_REQ_set_version(req, 1) == 1 &&
	     X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) == 1 &&
	     TS_MSG_IMPRINT_set_algo(imprint, alg) == 1 && TS_MSG_IMPRINT_set_msg(imprint, md, 32) == 1 &&
	     TS_REQ_set_msg_imprint(req, imprint) == 1 &&
	     (bn = BN_bin2bn(nonce_bytes, sizeof nonce_bytes, NULL)) &&
	     (nonce = BN_to_ASN1_INTEGER(bn, NULL)) && TS_REQ_set_nonce(req, nonce) == 1 &&
	     TS_REQ_set_cert_req(req, 1) == 1 && (der_len = i2d_TS_REQ(req, &der)) > 0;
	if (!ok) {
		char why[256];
		openssl_reason(why, sizeof why);
		pa_error_set(err, "%s/%s: cannot make the time-stamp request: %s", dir, MANIFEST_TSQ_FILE, why);
	} else {
		ok = write_file(dir, MANIFEST_TSQ_FILE, der, (size_t)der_len, err);
	}
	OPENSSL_free(der);
	BN_free(bn);
	ASN1_INTEGER_free(nonce);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(imprint);
	TS_REQ_free(req);
	return ok;
}

bool pa_signer_sign(const struct pa_signer *s, const char *dir, struct pa_error *err)
{
	char why[128];
	size_t len;
	unsigned char *data = read_bundle_file(dir, "manifest.json", &len, why, sizeof why);
	if (!data) {
		pa_error_set(err, "%s/manifest.json: cannot read it to sign: %s", dir, why);
		return false;
	}
	EVP_MD_CTX *md = sign_ctx(s->key, false);
	size_t sig_len = 0;
	unsigned char *sig = NULL;
	bool ok = md && EVP_DigestSign(md, NULL, &sig_len, data, len) == 1;
	if (ok) {
		sig = pa_xmalloc(sig_len);
		ok = EVP_DigestSign(md, sig, &sig_len, data, len) == 1;
	}
	free_ctx(md);
	if (!ok) {
		char reason[256];
		openssl_reason(reason, sizeof reason);
		pa_error_set(err, "%s/manifest.json: signing failed: %s", dir, reason);
	}
	ok = ok && write_file(dir, MANIFEST_SIG_FILE, sig, sig_len, err) &&
	     write_file(dir, MANIFEST_PUBKEY_FILE, s->pub_pem, strlen(s->pub_pem), err) &&
	     write_ts_request(dir, data, len, err);
	free(sig);
	free(data);
	return ok;
}

/* ---- verify ---------------------------------------------------------------- */

static EVP_PKEY *load_public(const char *path, const unsigned char *pem, size_t len)
{
	BIO *b = path ? BIO_new_file(path, "r") : BIO_new_mem_buf(pem, (int)len);
	if (!b)
		return NULL;
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

/* The time-stamp reply: granted, over this manifest (and the request's
 * nonce when the request is there), signed by the TSA. */
static size_t verify_timestamp(const char *dir, const unsigned char *manifest, size_t mlen,
			       const char *tsa_ca, FILE *out)
{
	char why[128];
	size_t len;
	unsigned char *der = read_bundle_file(dir, MANIFEST_TSR_FILE, &len, why, sizeof why);
	if (!der) {
		if (strcmp(why, strerror(ENOENT)) == 0)
			return 0; /* not time-stamped (yet) */
		fprintf(out, "REFUSED  %s: %s\n", MANIFEST_TSR_FILE, why);
		return 1;
	}
	const unsigned char *p = der;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)len);
	free(der);
	if (!resp) {
		fprintf(out, "BAD      %s: not an RFC 3161 time-stamp reply\n", MANIFEST_TSR_FILE);
		return 1;
	}
	size_t problems = 0;
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(manifest, mlen, md, &mdlen, EVP_sha256(), NULL);
	/* With the request at hand the reply must repeat its nonce too; the
	 * request itself must be for this manifest. */
	TS_VERIFY_CTX *ctx = NULL;
	unsigned char *tsq = read_bundle_file(dir, MANIFEST_TSQ_FILE, &len, why, sizeof why);
	if (tsq) {
		p = tsq;
		TS_REQ *req = d2i_TS_REQ(NULL, &p, (long)len);
		const ASN1_OCTET_STRING *asked = req ? TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(req)) : NULL;
		if (!asked || ASN1_STRING_length(asked) != 32 || memcmp(ASN1_STRING_get0_data(asked), md, 32)) {
			fprintf(out, "BAD      %s: not a time-stamp request for this manifest.json\n", MANIFEST_TSQ_FILE);
			problems++;
		} else {
			ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
		}
		TS_REQ_free(req);
		free(tsq);
	}
	if (!ctx) {
		ctx = TS_VERIFY_CTX_new();
		TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_IMPRINT);
		TS_VERIFY_CTX_set_imprint(ctx, OPENSSL_memdup(md, 32), 32);
	}
	X509_STORE *store = X509_STORE_new();
	bool chain = tsa_ca != NULL;
	if (chain) {
		if (X509_STORE_load_file(store, tsa_ca) != 1) {
			fprintf(out, "BAD      --tsa-ca %s: cannot load CA certificates\n", tsa_ca);
			problems++;
		}
		TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
	}
	TS_VERIFY_CTX_set_store(ctx, store);
	if (!problems && TS_RESP_verify_response(ctx, resp) != 1) {
		char reason[256];
		openssl_reason(reason, sizeof reason);
		fprintf(out, "BAD      %s: %s\n", MANIFEST_TSR_FILE, reason);
		problems++;
	}
	/* Without the TSA's CA the reply's signature is still checked against
	 * the certificate it carries: consistent, though not tied to a trusted
	 * authority. */
	if (!problems && !chain) {
		PKCS7 *token = TS_RESP_get_token(resp);
		X509_STORE *empty = X509_STORE_new();
		BIO *content = NULL;
		if (PKCS7_verify(token, NULL, empty, NULL, content, PKCS7_NOVERIFY) != 1) {
			char reason[256];
			openssl_reason(reason, sizeof reason);
			fprintf(out, "BAD      %s: its signature does not verify: %s\n", MANIFEST_TSR_FILE, reason);
			problems++;
		}
		X509_STORE_free(empty);
	}
	if (!problems) {
		TS_TST_INFO *info = TS_RESP_get_tst_info(resp);
		const ASN1_GENERALIZEDTIME *t = TS_TST_INFO_get_time(info);
		fprintf(out, "ok       %s: manifest.json time-stamped %.*s%s\n", MANIFEST_TSR_FILE,
			t ? t->length : 0, t ? (const char *)t->data : "",
			chain ? " (TSA certificate chain checked)"
			      : " (signature checked against the certificate in the reply; give --tsa-ca to check the TSA)");
	}
	TS_VERIFY_CTX_free(ctx); /* frees the store, imprint and nonce */
	TS_RESP_free(resp);
	return problems;
}

size_t pa_signature_verify(const char *dir, json_t *declared, const char *key_path,
			   const char *tsa_ca, FILE *out)
{
	char why[128];
	size_t mlen, slen, plen;
	unsigned char *manifest = read_bundle_file(dir, "manifest.json", &mlen, why, sizeof why);
	if (!manifest)
		return 1; /* reported by the caller already */
	unsigned char *sig = read_bundle_file(dir, MANIFEST_SIG_FILE, &slen, why, sizeof why);
	size_t problems = 0;
	if (!sig) {
		if (declared || key_path || strcmp(why, strerror(ENOENT))) {
			fprintf(out, "BAD      %s: %s (%s)\n", MANIFEST_SIG_FILE,
				declared ? "the manifest says it is signed, but the signature cannot be read"
					 : "--key given, but the signature cannot be read", why);
			problems++;
		}
		problems += verify_timestamp(dir, manifest, mlen, tsa_ca, out);
		free(manifest);
		return problems;
	}
	unsigned char *pem = NULL;
	EVP_PKEY *k = NULL;
	if (key_path) {
		k = load_public(key_path, NULL, 0);
		if (!k)
			fprintf(out, "BAD      --key %s: not a PEM public key\n", key_path);
	} else if ((pem = read_bundle_file(dir, MANIFEST_PUBKEY_FILE, &plen, why, sizeof why))) {
		k = load_public(NULL, pem, plen);
		if (!k)
			fprintf(out, "BAD      %s: not a PEM public key\n", MANIFEST_PUBKEY_FILE);
	} else {
		fprintf(out, "BAD      %s: %s\n", MANIFEST_PUBKEY_FILE, why);
	}
	char fp[65] = "";
	const char *want_fp = json_string_value(json_object_get(declared, "public_key_sha256"));
	if (!k) {
		problems++;
	} else if (!pub_fingerprint(k, fp) || (want_fp && strcmp(fp, want_fp))) {
		fprintf(out, "BAD      %s: signed by the key %s, but the manifest names the key %s\n",
			MANIFEST_SIG_FILE, fp, want_fp);
		problems++;
	} else {
		EVP_MD_CTX *md = sign_ctx(k, true);
		int rc = md ? EVP_DigestVerify(md, sig, slen, manifest, mlen) : -1;
		free_ctx(md);
		if (rc == 1) {
			fprintf(out, "ok       %s: manifest.json signed (%s) by the key with SHA-256 %s%s\n",
				MANIFEST_SIG_FILE, key_algorithm(k), fp,
				key_path ? " (the key given)" : " (the key in the bundle: compare it with the signer's)");
		} else {
			char reason[256];
			openssl_reason(reason, sizeof reason);
			fprintf(out, "BAD      %s: the signature does not match manifest.json\n", MANIFEST_SIG_FILE);
			problems++;
		}
	}
	if (!want_fp && k) {
		fprintf(out, "BAD      %s: the manifest does not say it is signed\n", MANIFEST_SIG_FILE);
		problems++;
	}
	EVP_PKEY_free(k);
	free(pem);
	free(sig);
	problems += verify_timestamp(dir, manifest, mlen, tsa_ca, out);
	free(manifest);
	return problems;
}
