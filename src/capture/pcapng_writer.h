/*
 * pcapng_writer.h — writing pcapng files: one section, one interface block
 * per link type used (if_tsresol 9), Enhanced Packet Blocks with nanosecond
 * timestamps and an optional comment, Decryption Secrets Blocks.
 *
 * Each packet is one fwrite of a whole block, and pcapng_writer_flush() is
 * called after every batch, so a writer killed at any moment leaves a file
 * that reads up to its last complete packet.
 */
#ifndef PA_PCAPNG_WRITER_H
#define PA_PCAPNG_WRITER_H

#include <stdio.h>

#include "capture/capture.h"

#define PCAPNG_MAX_INTERFACES 8
#define PCAPNG_COMMENT_MAX 1024 /* longer comments are cut */

struct pcapng_writer {
	FILE *f;
	int linktypes[PCAPNG_MAX_INTERFACES];
	size_t interfaces;
	uint64_t packets;
	uint64_t bytes;      /* file size so far */
	bool failed;         /* a write failed: errno_saved says why */
	int errno_saved;
};

/* Opens path for writing and writes the Section Header Block. false with err set. */
bool pcapng_writer_open(struct pcapng_writer *w, const char *path, const char *app_name,
			struct pa_error *err);
/* Appends one packet (adds an interface block first for a new link type),
 * with the record's timestamp in ns (capture_record_ns). */
bool pcapng_writer_packet(struct pcapng_writer *w, const struct capture_record *rec);
/* The same with an opt_comment (UTF-8; NULL or "" for none), which
 * Wireshark shows as the packet's comment (pkt_comment / frame.comment). */
bool pcapng_writer_packet_comment(struct pcapng_writer *w, const struct capture_record *rec,
				  const char *comment);
/* Appends a Decryption Secrets Block (e.g. 0x544c534b, NSS key log text). */
bool pcapng_writer_secrets(struct pcapng_writer *w, uint32_t secrets_type, const uint8_t *data,
			   size_t len);
bool pcapng_writer_flush(struct pcapng_writer *w);
/* Flushes, fsyncs and closes; false when anything written failed. */
bool pcapng_writer_close(struct pcapng_writer *w);

#endif
