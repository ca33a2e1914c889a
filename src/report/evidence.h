/*
 * evidence.h — the packets behind each finding, as one pcapng per finding
 * (DIR/evidence/<finding-id>.pcapng). report/manifest.h lists them and
 * checks them (privaudit verify).
 *
 * After the run the input captures are read again with the project's reader,
 * in the order the audit read them (packet numbers count from 1 across all
 * inputs), and each finding gets its proving packets plus the first packets
 * of every flow it cites (the handshake, for context). Files are written to a
 * temporary name and renamed, so a reader never sees half an evidence file.
 */
#ifndef PA_EVIDENCE_H
#define PA_EVIDENCE_H

#include <stdio.h>

#include "policy/findings.h"

/* First packets of each cited flow copied for context (SYN, SYN/ACK, ACK, first data). */
#define EVIDENCE_CONTEXT_PACKETS 4

struct evidence_stats {
	size_t files;             /* evidence files written */
	uint64_t packets;         /* packets written, over all files */
	uint64_t missing;         /* cited packet numbers the inputs no longer hold */
};

/* inputs: the capture files in the order the audit read them. false with err
 * set when a file cannot be written (an unreadable input is counted in
 * st->missing, and the message is in err only when nothing could be read). */
bool evidence_write(const struct findings *fs, char *const *inputs, size_t n, const char *dir,
		    struct evidence_stats *st, struct pa_error *err);

#endif
