/*
 * datadir.h — where the default signatures and GeoIP database live.
 *
 * An installed binary (cmake --install, the .deb) finds them in the data
 * folder installed next to it, BINDIR/PA_DATADIR_FROM_BINDIR
 * (../share/privaudit), so an installation can be moved as a whole. A binary
 * run from its build tree has no such folder and uses the source tree it was
 * built from (PA_SOURCE_SIGNATURES, PA_SOURCE_GEOIP_DIR).
 */
#ifndef PA_DATADIR_H
#define PA_DATADIR_H

/* "…/share/privaudit/signatures" or "<source>/signatures"; never NULL. */
const char *pa_default_signatures_dir(void);
/* "…/share/privaudit/geoip" or "<source>/data/geoip"; never NULL. */
const char *pa_default_geoip_dir(void);

#endif
