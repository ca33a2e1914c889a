#!/bin/sh
# fixtures-reproducible.sh SOURCE WORK — the committed GeoIP fixtures are
# exactly what tools/make-geoip-fixtures builds (it is deterministic):
# rebuild them into WORK and compare byte for byte. Exit 77 (skipped) when
# the Perl writer module is not installed, since then nothing can be built.
src=$1 work=$2
if ! perl -MMaxMind::DB::Writer::Tree -e 1 2>/dev/null; then
	echo "SKIP: perl module MaxMind::DB::Writer missing (Debian package libmaxmind-db-writer-perl)"
	exit 77
fi
rm -rf "$work"
mkdir -p "$work" || exit 1
perl "$src/tools/make-geoip-fixtures" "$work" >/dev/null || { echo "FAIL: make-geoip-fixtures failed"; exit 1; }
status=0
for f in "$src"/tests/data/geoip/*.mmdb; do
	name=$(basename "$f")
	if [ ! -f "$work/$name" ]; then
		echo "FAIL: tests/data/geoip/$name is committed but make-geoip-fixtures no longer builds it"
		status=1
	elif ! cmp -s "$work/$name" "$f"; then
		echo "FAIL: tests/data/geoip/$name differs from what make-geoip-fixtures builds now"
		status=1
	fi
done
for f in "$work"/*.mmdb; do
	[ -f "$src/tests/data/geoip/$(basename "$f")" ] ||
		{ echo "FAIL: make-geoip-fixtures builds $(basename "$f"), which is not committed"; status=1; }
done
[ $status -eq 0 ] && echo "geoip fixtures: $(ls "$work"/*.mmdb | wc -l) databases identical to the committed ones"
exit $status
