/*
 * jurisdiction.h — a jurisdiction word as the output records write it.
 *
 * Inside privaudit a destination's jurisdiction is one word (geo.h):
 * "CN", "HK", "MO", "TW", "foreign:XX", "private" or "unknown"; policies
 * name jurisdictions the same way (allowed: [CN, foreign:SG]). A record
 * that a program reads gets the two facts the word holds as two fields, so
 * that neither has to be parsed out of a string (docs/output.md):
 *   jurisdiction          "CN", "HK", "MO", "TW", "foreign", "private", "unknown"
 *   jurisdiction_country  the ISO country the jurisdiction stands for
 *                         ("SG" for foreign:SG, "CN" for CN), null for
 *                         private and unknown
 */
#ifndef PA_GEO_JURISDICTION_H
#define PA_GEO_JURISDICTION_H

#include <jansson.h>

struct jurisdiction_parts {
	char jurisdiction[8];
	char country[3]; /* "" when the jurisdiction names no country */
};

/* The parts of a word; NULL, "" or a word geo.h does not make give "unknown". */
struct jurisdiction_parts jurisdiction_split(const char *word);

/* Sets "jurisdiction" and "jurisdiction_country" (null when "") on o. */
void jurisdiction_json_set(json_t *o, const char *word);

#endif
