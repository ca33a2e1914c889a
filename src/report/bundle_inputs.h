/*
 * bundle_inputs.h — the inputs of an audit as manifest entries, and their
 * copies in DIR/inputs/ (--bundle-inputs), under the names the manifest
 * gives them, so a bundle verifies wherever it is copied (`verify --inputs
 * DIR/inputs`).
 */
#ifndef PA_BUNDLE_INPUTS_H
#define PA_BUNDLE_INPUTS_H

#include <jansson.h>

#include "geo/geo.h"
#include "privaudit.h"
#include "report/manifest.h"

/* The inputs an audit read at its start besides captures and key logs. */
struct bundle_input_files {
	const char *policy;            /* or NULL */
	const char *device;            /* or NULL */
	const char *signatures;        /* the signature folder */
	const char *recipients;        /* a catalogue given by name, or NULL (the one in signatures) */
	const char *country_overrides; /* or NULL */
	const struct geo *geo;         /* its databases, with their metadata */
};

/* Room for the entries bundle_other_inputs makes. */
#define BUNDLE_OTHER_INPUTS_MAX (GEO_MAX_DBS + 5)

/* Those inputs as manifest entries into e (at most max); metas receives
 * the GeoIP databases' metadata the entries point to, for the caller to
 * json_decref. Returns the number of entries. */
size_t bundle_other_inputs(const struct bundle_input_files *in, struct manifest_entry *e,
			   size_t max, json_t *metas[GEO_MAX_DBS]);

/* The same inputs hashed now, as manifest_prepare does (live mode, before
 * the privileges to read them are dropped). New reference; NULL with err set. */
json_t *bundle_hash_other_inputs(const struct bundle_input_files *in, struct pa_error *err);

/* Copies every input entry (not the outputs, not the files of the bundle)
 * into out/inputs/; an entry given twice is copied once. false with err
 * set on the first file that cannot be read or written. */
bool bundle_copy_inputs(const char *out, const struct manifest_entry *e, size_t n,
			struct pa_error *err);

#endif
