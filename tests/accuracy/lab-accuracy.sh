#!/bin/sh
# lab-accuracy.sh PRIVAUDIT SOURCE SCENARIO WORKDIR — run one lab scenario
# (tools/lab/run-scenario) and compare privaudit's observations with the
# ground truth it wrote (check.py). Exit 77 when the lab cannot run here.
set -u
privaudit=$1 source=$2 scenario=$3 work=$4/$3
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "lab needs root and ip netns: skipped"
	exit 77
fi
rm -rf "$work" && mkdir -p "$work/run" || exit 1
if ! "$source/tools/lab/run-scenario" "$scenario" "$work/run" >"$work/lab.log" 2>&1; then
	cat "$work/lab.log"
	# the lab could not come up (no veth/netns support): not a failure of the engine
	grep -qi "netns\|veth\|operation not permitted" "$work/lab.log" && exit 77
	exit 1
fi
exec python3 "$source/tests/accuracy/check.py" --privaudit "$privaudit" --source "$source" \
	--captures "$work/run" --work "$work/out" --json "$work/accuracy.json"
