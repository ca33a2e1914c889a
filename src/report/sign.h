/*
 * sign.h — signing a bundle's manifest and preparing its time-stamp.
 *
 * --sign-key KEY (a PEM private key: Ed25519, Ed448, SM2, ECDSA or RSA)
 * signs the bytes of manifest.json into manifest.json.sig (raw signature:
 * Ed25519/Ed448 sign the message itself; SM2 with SM3 and the default
 * identity "1234567812345678" (GB/T 32918); other keys with SHA-256), puts
 * the public key beside it (manifest.pub.pem) and writes an RFC 3161
 * time-stamp request for manifest.json (manifest.json.tsq, DER, as `openssl
 * ts -query -data manifest.json -sha256 -cert` writes it). The reply of a
 * time-stamping authority is stored as manifest.json.tsr; verify checks it.
 *
 * The manifest names the key (its algorithm and the SHA-256 of its
 * DER-encoded public key) before it is signed, so a signature by another key
 * cannot pass for this run's.
 */
#ifndef PA_SIGN_H
#define PA_SIGN_H

#include <jansson.h>
#include <stdio.h>

#include "privaudit.h"

struct pa_signer;

/* NULL with err set ("KEY: not a PEM private key", "KEY: X25519 keys
 * cannot sign") when the key cannot be used. */
struct pa_signer *pa_signer_load(const char *key_path, struct pa_error *err);
void pa_signer_free(struct pa_signer *s);

/* The manifest's "signature" member (new reference). */
json_t *pa_signer_json(const struct pa_signer *s);

/* Signs dir/manifest.json: writes the signature, the public key and the
 * time-stamp request into dir. */
bool pa_signer_sign(const struct pa_signer *s, const char *dir, struct pa_error *err);

/*
 * verify's part: the signature of dir/manifest.json (declared is the
 * manifest's "signature" member, or NULL), with the public key of key_path
 * or else the one in the bundle; then, when dir holds manifest.json.tsr, the
 * time-stamp reply (its signature against tsa_ca when given, else against
 * the certificate the reply carries). One line per check on out; the number
 * of problems is returned.
 */
size_t pa_signature_verify(const char *dir, json_t *declared, const char *key_path,
			   const char *tsa_ca, FILE *out);

#endif
