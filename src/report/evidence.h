/*
 * evidence.h — the packets behind each finding, as one pcapng per finding
 * (DIR/evidence/<finding-id>.pcapng), and the check that an output folder
 * still holds exactly what its manifest says (privaudit verify).
 *
 * After the run the input captures are read again with the project's reader,
 * in the order the audit read them (packet numbers count from 1 across all
 * inputs). Each finding's file holds what a second examiner needs to see the
 * same bytes with standard tools alone: the packets it cites; every packet
 * of each cited flow up to the last one cited (TCP and TLS handshakes, every
 * earlier TLS record: decryption needs their sequence numbers) and a short
 * tail after it, or the flow's first few when it cites none of them; the DNS answer that gave the
 * flow's address; a Decryption Secrets Block with the key log lines of the
 * flow's TLS session and no other; on every packet a comment naming the
 * finding, the original file and packet number; timestamps in ns. Files are
 * written to a temporary name and renamed, so a reader never sees half an
 * evidence file.
 */
#ifndef PA_EVIDENCE_H
#define PA_EVIDENCE_H

#include <stdio.h>

#include "policy/findings.h"

/* First packets of a cited flow none of whose packets is cited (SYN, SYN/ACK, ACK, first data). */
#define EVIDENCE_CONTEXT_PACKETS 4
/* After the last cited packet of a flow, its next packets up to this many
 * captured bytes and this long after it: a message (an upload's body) that
 * goes on past the cited packet is complete, so Wireshark shows the request
 * itself rather than "segment of a reassembled PDU". */
#define EVIDENCE_TAIL_BYTES (256u * 1024)
#define EVIDENCE_TAIL_US (5 * 1000000LL)

struct evidence_stats {
	size_t files;             /* evidence files written */
	uint64_t packets;         /* packets written, over all files */
	uint64_t missing;         /* cited packet numbers the inputs no longer hold */
	uint64_t tls_sessions;    /* TLS sessions whose secrets went into the files */
};

struct keylog;

/* inputs: the capture files in the order the audit read them; keylog: the
 * audit's TLS secrets (key log files and the inputs' secrets blocks), or
 * NULL. false with err set when a file cannot be written (an unreadable
 * input is counted in st->missing). */
bool evidence_write(const struct findings *fs, char *const *inputs, size_t n,
		    const struct keylog *keylog, const char *dir, struct evidence_stats *st,
		    struct pa_error *err);

/* Re-hashes every file DIR/manifest.json lists and prints one line per file
 * ("ok", "CHANGED", "MISSING") and a total to out. 0 when all match, 1 when
 * any file changed or is missing, or the manifest cannot be read. Evidence
 * files the manifest does not list are reported as "unlisted". */
int evidence_verify(const char *dir, FILE *out);

#endif
