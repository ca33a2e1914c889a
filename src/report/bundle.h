/*
 * bundle.h — the output folder of one audit (--out DIR), written so that it
 * holds exactly what this run produced.
 *
 * The run writes into a fresh staging folder, DIR/.partial-XXXXXX, created
 * before anything else (live mode creates it before it drops privileges and
 * hands it to the unprivileged user). Only when every output and the
 * manifest are written are the staged files moved up into DIR, manifest.json
 * last, so a reader never sees a manifest beside files of another run.
 *
 * Live mode writes its capture ring in place, into DIR/capture/ (it must be
 * readable while the capture runs, survive a crash where it is expected, and
 * may be a mount point the operator prepared): that folder is part of the
 * bundle without being staged, and may exist, empty, before the run.
 *
 * DIR must be absent or empty; a DIR holding an earlier bundle is replaced
 * only when asked (--replace), and then only when it looks like one (it holds
 * a manifest.json, a report.json or a staging folder a failed run left): its
 * files are removed after the new bundle is complete, just before the new
 * files move in. A failed run leaves DIR as it was and the staging folder in
 * place, named on stderr.
 */
#ifndef PA_BUNDLE_H
#define PA_BUNDLE_H

#include "privaudit.h"

struct bundle_out {
	char dir[4096];     /* DIR as given */
	char staging[4200]; /* DIR/.partial-XXXXXX: where this run writes */
	bool replace;
	const char *in_place; /* live: "capture", written in DIR directly; else NULL */
};

/* Creates DIR if needed and the staging folder in it. false with err set
 * ("DIR: not empty (an earlier audit's output?); use --replace or another
 * folder") when DIR cannot be used. in_place (live: "capture") names the
 * subfolder written in place; when replacing, the earlier bundle is removed
 * at once then, since the new capture starts writing into DIR. */
bool bundle_out_open(struct bundle_out *b, const char *dir, bool replace, const char *in_place,
		     struct pa_error *err);

/* Moves the staged files into DIR (removing DIR's earlier files first when
 * replacing) and removes the staging folder. false with err set on the
 * first failure; the staging folder then stays for inspection. */
bool bundle_out_commit(struct bundle_out *b, struct pa_error *err);

/* Removes the staging folder and everything in it (a run that stopped
 * before its end). false with err set on the first failure. */
bool bundle_out_discard(struct bundle_out *b, struct pa_error *err);

/* DIR is from now on reached as dir (live: "." once the process works
 * inside DIR); the staging folder's path follows. */
void bundle_out_rebase(struct bundle_out *b, const char *dir);

/* The staging folder's name prefix: verify and the commit step know it. */
#define BUNDLE_STAGING_PREFIX ".partial-"

#endif
