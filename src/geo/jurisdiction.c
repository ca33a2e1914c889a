/* jurisdiction.c — a jurisdiction word split into its two facts (jurisdiction.h). */
#include "geo/jurisdiction.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool iso_code(const char *s)
{
	return strlen(s) == 2 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]);
}

struct jurisdiction_parts jurisdiction_split(const char *word)
{
	struct jurisdiction_parts p = {.jurisdiction = "unknown"};
	if (!word)
		return p;
	if (!strncmp(word, "foreign:", 8) && iso_code(word + 8)) {
		memcpy(p.jurisdiction, "foreign", 8);
		memcpy(p.country, word + 8, 3);
	} else if (!strcmp(word, "CN") || !strcmp(word, "HK") || !strcmp(word, "MO") ||
		   !strcmp(word, "TW")) {
		memcpy(p.jurisdiction, word, 3);
		memcpy(p.country, word, 3);
	} else if (!strcmp(word, "private")) {
		memcpy(p.jurisdiction, "private", 8);
	}
	return p;
}

void jurisdiction_json_set(json_t *o, const char *word)
{
	struct jurisdiction_parts p = jurisdiction_split(word);
	json_object_set_new(o, "jurisdiction", json_string(p.jurisdiction));
	json_object_set_new(o, "jurisdiction_country", p.country[0] ? json_string(p.country) : json_null());
}
