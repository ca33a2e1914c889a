#!/usr/bin/env bash
# without-test-packages.sh SOURCE WORK MODULE... — the main job needs only
# the build packages (tools/deps --build). With the pkg-config modules only
# the tests use (MODULE..., from tests/CMakeLists.txt) hidden, the default
# configuration must configure, build privaudit, and audit the bundled demo
# capture; the test configuration must refuse, naming a hidden module (which
# shows the hiding works, so the first part could have failed).
set -uo pipefail
src=$1 work=$2
shift 2
[ $# -ge 1 ] || { echo "usage: $0 SOURCE WORK MODULE..." >&2; exit 2; }
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$work"
mkdir -p "$work/pkgconfig" || exit 1
# A pkg-config search folder holding every module of this machine but the
# hidden ones; PKG_CONFIG_LIBDIR replaces the default search path with it.
IFS=: read -r -a pc_dirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${pc_dirs[@]}"; do
	for pc in "$d"/*.pc; do
		[ -e "$pc" ] || continue
		name=$(basename "$pc" .pc)
		for hidden in "$@"; do [ "$name" = "$hidden" ] && continue 2; done
		[ -e "$work/pkgconfig/$name.pc" ] || ln -s "$pc" "$work/pkgconfig/$name.pc"
	done
done
export PKG_CONFIG_LIBDIR="$work/pkgconfig" PKG_CONFIG_PATH=
for hidden in "$@"; do
	! pkg-config --exists "$hidden" || fail "pkg-config still finds $hidden; nothing is hidden"
done

# The test configuration needs the hidden modules and must say so.
if cmake -S "$src" -B "$work/with-tests" -DPA_TESTS=ON >"$work/with-tests.log" 2>&1; then
	fail "configuring with -DPA_TESTS=ON succeeded without $*; the hiding does not work"
fi
grep -qE "$(IFS='|'; echo "$*")" "$work/with-tests.log" ||
	{ tail -20 "$work/with-tests.log"; fail "the test configuration failed without naming a hidden module"; }

# The default configuration, as tools/build release and tools/demo use it.
# -O0: this checks what the build needs, not how fast the result runs.
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-O0 \
	>"$work/configure.log" 2>&1 ||
	{ tail -30 "$work/configure.log"; fail "configuring without the test packages failed"; }
cmake --build "$work/build" -j2 --target privaudit >"$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log"; fail "building privaudit without the test packages failed"; }

# The demo's audit (tools/demo), with the lab GeoIP fixtures only: the
# capture holds violations, so exit 1 and a verified output folder.
out="$work/demo"
"$work/build/privaudit" audit --quiet \
	--policy "$src/policies/lanxin.yaml" --device "$src/signatures/devices/lab-phone.yaml" \
	--geoip "$src/tests/data/geoip/lab-country.mmdb" --geoip "$src/tests/data/geoip/lab-asn.mmdb" \
	--keylog "$src/captures/demo-lanxin-leaky.keylog" \
	--out "$out" "$src/captures/demo-lanxin-leaky.pcapng" 2>"$work/audit.stderr"
rc=$?
[ $rc -eq 1 ] || { tail -20 "$work/audit.stderr"; fail "the demo audit exited $rc, expected 1 (violations found)"; }
for f in flows.jsonl observations.jsonl findings.jsonl report.json report.html manifest.json; do
	[ -s "$out/$f" ] || fail "the demo audit wrote no $f"
done
"$work/build/privaudit" verify "$out" >"$work/verify.log" 2>&1 ||
	{ cat "$work/verify.log"; fail "privaudit verify rejected the demo audit's output"; }
echo "without $*: configured, built, demo audit found $(wc -l <"$out/findings.jsonl") findings, output verified"
