# tools/lab/lab-env.sh — build and tear down the namespace lab (sourced, bash).
#
#   phone ──veth── router ──veth── net ("the internet": DNS, nginx, TCP/UDP)
#                    │
#                    └─ mirror of the phone link (tc clsact, ingress+egress)
#                       ──veth (SPAN)── monitor (captures, never answers)
#
# Every name carries a per-run id (pa<id>-phone, ...), so runs can overlap and
# teardown removes exactly what this run created. Callers do:
#   . tools/lab/lab-env.sh; lab_init RUNDIR; trap lab_down EXIT; lab_up; lab_servers_start
# docs/lab.md describes the topology and the address plan.

LAB_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PHONE_MAC=8c:be:be:4a:21:07
LAB_DNS4=39.156.66.53
LAB_DNS6=240e:1::53

lab_log() { [ -n "${LAB_QUIET:-}" ] || echo "lab: $*" >&2; }
lab_die() { echo "lab: error: $*" >&2; exit 1; }

# Is this a machine where the lab can run at all? (root, ip netns, veth)
lab_supported() {
	[ "$(id -u)" -eq 0 ] || return 1
	command -v ip >/dev/null || return 1
	local probe="pa-probe-$$"
	ip netns add "$probe" 2>/dev/null || return 1
	ip netns exec "$probe" ip link add probe0 type veth peer name probe1 2>/dev/null
	local rc=$?
	ip netns del "$probe" 2>/dev/null
	return $rc
}

# lab_init RUNDIR: choose this run's names; RUNDIR holds configs, pids, logs.
lab_init() {
	LAB_RUN=$1
	mkdir -p "$LAB_RUN"
	LAB_RUN=$(cd "$LAB_RUN" && pwd)
	LAB_ID=${LAB_ID:-$(printf '%x%04x' $$ $((RANDOM)))}
	NS_PHONE=pa$LAB_ID-phone
	NS_ROUTER=pa$LAB_ID-rt
	NS_NET=pa$LAB_ID-net
	NS_MON=pa$LAB_ID-mon
	LAB_NAMESPACES="$NS_PHONE $NS_ROUTER $NS_NET $NS_MON"
	: >"$LAB_RUN/pids"
	: >"$LAB_RUN/taps"
	export LAB_RUN LAB_ID NS_PHONE NS_ROUTER NS_NET NS_MON
}

# Run a command inside one of the lab namespaces.
lab_in() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# lab_wait_until WHAT PID COMMAND...: poll COMMAND until it succeeds. Never a
# fixed pause: a loaded machine may take seconds where an idle one takes
# milliseconds, so the bound is generous (LAB_WAIT_SECONDS, default 120) and
# running out of it, or PID (a process the condition depends on, or "")
# exiting first, stops the run saying what was awaited.
lab_wait_until() {
	local what=$1 pid=$2 limit=${LAB_WAIT_SECONDS:-120}
	shift 2
	local deadline=$((SECONDS + limit))
	until "$@"; do
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			lab_die "process $pid exited while waiting for $what (logs in $LAB_RUN)"
		fi
		[ "$SECONDS" -lt "$deadline" ] || lab_die "waited ${limit}s for $what (logs in $LAB_RUN)"
		sleep 0.05
	done
}

# Start a background process inside a namespace and remember its pid for teardown.
lab_spawn() {
	local ns=$1 log=$2; shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	echo $! >>"$LAB_RUN/pids"
	LAB_LAST_PID=$!
}

# Wire-sized packets on a veth, as on a real mirror port: no segmentation
# offloads and checksums computed in software so captures hold valid checksums.
lab_no_offload() {
	lab_in "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
}

# Quiet IPv6 on a link: no router solicitations, no DAD, so a capture holds
# only the traffic a scenario makes (plus neighbour discovery it triggers).
lab_quiet_ipv6() {
	local ns=$1 dev=$2
	lab_in "$ns" sysctl -qw net.ipv6.conf."$dev".accept_ra=0 \
		net.ipv6.conf."$dev".router_solicitations=0 \
		net.ipv6.conf."$dev".dad_transmits=0 \
		net.ipv6.conf."$dev".mldv1_unsolicited_report_interval=10 \
		net.ipv6.conf."$dev".mldv2_unsolicited_report_interval=10 >/dev/null
}

lab_up() {
	local ns
	for ns in $LAB_NAMESPACES; do
		ip netns add "$ns" || lab_die "cannot create namespace $ns"
		lab_in "$ns" ip link set lo up
		lab_in "$ns" sysctl -qw net.ipv6.conf.default.accept_ra=0 \
			net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.default.dad_transmits=0 >/dev/null
	done
	# The phone sees only the lab DNS server (ip netns exec bind-mounts this).
	mkdir -p "/etc/netns/$NS_PHONE"
	printf 'nameserver %s\nnameserver %s\n' "$LAB_DNS4" "$LAB_DNS6" >"/etc/netns/$NS_PHONE/resolv.conf"

	# Links are created directly inside their namespaces: no names in the root one.
	ip link add ph0 netns "$NS_PHONE" address "$LAB_PHONE_MAC" type veth \
		peer name rt-ph netns "$NS_ROUTER" address 02:66:00:00:00:01
	ip link add net0 netns "$NS_NET" address 02:66:01:00:00:02 type veth \
		peer name rt-net netns "$NS_ROUTER" address 02:66:01:00:00:01
	ip link add span1 netns "$NS_MON" type veth peer name span0 netns "$NS_ROUTER"

	lab_in "$NS_MON" sysctl -qw net.ipv6.conf.span1.disable_ipv6=1
	lab_in "$NS_ROUTER" sysctl -qw net.ipv6.conf.span0.disable_ipv6=1
	for pair in "$NS_PHONE ph0" "$NS_ROUTER rt-ph" "$NS_ROUTER rt-net" "$NS_NET net0" \
		"$NS_ROUTER span0" "$NS_MON span1"; do
		set -- $pair
		lab_no_offload "$1" "$2"
		[ "$2" = span0 ] || [ "$2" = span1 ] || lab_quiet_ipv6 "$1" "$2"
	done

	# phone: 10.66.0.2/24, fd66::2/64, default route via the router
	lab_in "$NS_PHONE" ip addr add 10.66.0.2/24 dev ph0
	lab_in "$NS_PHONE" ip -6 addr add fd66::2/64 dev ph0 nodad
	# router: forwards between the phone link and the "internet"
	lab_in "$NS_ROUTER" ip addr add 10.66.0.1/24 dev rt-ph
	lab_in "$NS_ROUTER" ip -6 addr add fd66::1/64 dev rt-ph nodad
	lab_in "$NS_ROUTER" ip addr add 10.66.1.1/30 dev rt-net
	lab_in "$NS_ROUTER" ip -6 addr add fd66:1::1/64 dev rt-net nodad
	lab_in "$NS_ROUTER" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	# net: the server side of every catalogue host
	lab_in "$NS_NET" ip addr add 10.66.1.2/30 dev net0
	lab_in "$NS_NET" ip -6 addr add fd66:1::2/64 dev net0 nodad
	lab_add_server_addresses

	lab_in "$NS_MON" ip link set span1 up
	lab_in "$NS_ROUTER" ip link set span0 arp off up
	lab_in "$NS_ROUTER" ip link set rt-net up
	lab_in "$NS_NET" ip link set net0 up
	lab_in "$NS_ROUTER" ip link set rt-ph up
	lab_in "$NS_PHONE" ip link set ph0 up

	lab_in "$NS_PHONE" ip route add default via 10.66.0.1
	lab_in "$NS_PHONE" ip -6 route add default via fd66::1
	# Inside the lab the router's default route points into the net namespace,
	# which has none: a packet to an address nobody holds dies there.
	lab_in "$NS_ROUTER" ip route add default via 10.66.1.2
	lab_in "$NS_ROUTER" ip -6 route add default via fd66:1::2
	lab_in "$NS_NET" ip route add 10.66.0.0/16 via 10.66.1.1
	lab_in "$NS_NET" ip -6 route add fd66::/64 via fd66:1::1

	# The mirror: both directions of the phone's link, copied to the SPAN veth.
	lab_in "$NS_ROUTER" tc qdisc add dev rt-ph clsact
	lab_in "$NS_ROUTER" tc filter add dev rt-ph ingress protocol all u32 match u32 0 0 \
		action mirred egress mirror dev span0
	lab_in "$NS_ROUTER" tc filter add dev rt-ph egress protocol all u32 match u32 0 0 \
		action mirred egress mirror dev span0
	lab_add_latency
	# Multicast listener reports that follow a link coming up may still be
	# on their way when a capture starts and reach one tap only: the capture
	# comparisons leave link control out (tools/lab/compare-captures).
	lab_log "namespaces up: $LAB_NAMESPACES"
}

# Distance, as latency: the router holds every packet from the phone for a
# round trip that fits its destination's country seen from the lab phone in
# Beijing (each value is above the fibre bound 2*distance/200 km/ms that
# privaudit's plausibility check applies, so GeoIP stays plausible). The
# kernel here may lack netem, so delay-forwarder.py does it through a TUN
# device: policy routing sends what arrives from the phone into dly0, the
# forwarder writes it back after the delay, the main table forwards it on.
# The whole round trip is added after the mirror point, so the capture sees
# SYN and SYN/ACK that far apart, as a span port sees a far server.
# LAB_NO_LATENCY=1 turns it off (benchmarks).
LAB_RTT_MS="CN:12 HK:38 MO:40 TW:45 JP:65 SG:85 US:190 DE:210"
lab_add_latency() {
	[ -z "${LAB_NO_LATENCY:-}" ] || return 0
	lab_spawn "$NS_ROUTER" "$LAB_RUN/delay-forwarder.log" \
		python3 "$LAB_TOOLS/delay-forwarder.py" dly0 "$LAB_TOOLS/catalogue.tsv" "$LAB_RTT_MS"
	lab_wait_until "the delay forwarder to start" "$LAB_LAST_PID" \
		grep -qs ready "$LAB_RUN/delay-forwarder.log"
	lab_in "$NS_ROUTER" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.dly0.rp_filter=0 \
		net.ipv6.conf.dly0.disable_ipv6=0
	lab_in "$NS_ROUTER" ip link set dly0 up
	lab_in "$NS_ROUTER" ip route add default dev dly0 table 100
	lab_in "$NS_ROUTER" ip -6 route add default dev dly0 table 100
	lab_in "$NS_ROUTER" ip rule add iif rt-ph lookup 100 priority 100
	lab_in "$NS_ROUTER" ip -6 rule add iif rt-ph lookup 100 priority 100
}

# Every address of the catalogue, the DNS server and a spare per prefix go on net0.
lab_add_server_addresses() {
	# One `ip -batch` for all of them: a process per address costs seconds.
	{
		echo "$LAB_DNS4 $LAB_DNS6"
		grep -v '^#' "$LAB_TOOLS/catalogue.tsv" | awk 'NF >= 4 { print $2, $3 }'
	} | sort -u | awk '{
		print "addr add " $1 "/32 dev net0"
		if ($2 != "-") print "addr add " $2 "/128 dev net0 nodad"
	}' | ip -n "$NS_NET" -force -batch - 2>/dev/null || true
}

# Lab CA and one server certificate naming every catalogue host.
lab_make_certs() {
	local d=$LAB_RUN/tls san
	mkdir -p "$d"
	san=$(grep -v '^#' "$LAB_TOOLS/catalogue.tsv" | awk 'NF >= 4 { printf "DNS:%s,", $1 }')
	san="${san}IP:39.156.66.10"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj "/CN=privaudit lab CA" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=lab server" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 30 -extfile "$d/ext.cnf" -out "$d/server.pem" 2>/dev/null
	[ -s "$d/server.pem" ] || lab_die "could not make the lab certificates"
	# A second, RSA server certificate for the ECDHE-RSA and RSA key exchange
	# suites; nginx picks the one matching the suite the client offers.
	openssl req -newkey rsa:2048 -nodes -subj "/CN=lab server (RSA)" \
		-keyout "$d/server-rsa.key" -out "$d/server-rsa.csr" 2>/dev/null
	openssl x509 -req -in "$d/server-rsa.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 30 -extfile "$d/ext.cnf" -out "$d/server-rsa.pem" 2>/dev/null
	[ -s "$d/server-rsa.pem" ] || lab_die "could not make the lab RSA certificate"
}

lab_write_dnsmasq_conf() {
	local conf=$LAB_RUN/dnsmasq.conf host v4 v6 rest
	{
		echo "no-resolv"; echo "no-hosts"; echo "no-poll"; echo "bind-interfaces"
		echo "listen-address=$LAB_DNS4"; echo "listen-address=$LAB_DNS6"
		echo "user=root"; echo "pid-file=$LAB_RUN/dnsmasq.pid"
		echo "log-queries"; echo "log-facility=$LAB_RUN/dnsmasq.log"
		# Names outside the catalogue get NXDOMAIN instead of REFUSED.
		echo "local=/#/"
		grep -v '^#' "$LAB_TOOLS/catalogue.tsv" | while read -r host v4 v6 rest; do
			[ -n "$rest" ] || continue
			case $host in
			'*.'*) echo "address=/${host#\*.}/$v4"
			       [ "$v6" = - ] || echo "address=/${host#\*.}/$v6" ;;
			*) if [ "$v6" = - ]; then echo "host-record=$host,$v4"
			   else echo "host-record=$host,$v4,$v6"; fi ;;
			esac
		done
	} >"$conf"
}

lab_write_nginx_conf() {
	local conf=$LAB_RUN/nginx.conf tmp=$LAB_RUN/nginx-tmp
	mkdir -p "$tmp"
	cat >"$conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $LAB_RUN/nginx.pid;
error_log $LAB_RUN/nginx-error.log warn;
events { worker_connections 512; }
http {
	access_log $LAB_RUN/nginx-access.log;
	client_body_temp_path $tmp/body;
	proxy_temp_path $tmp/proxy;
	fastcgi_temp_path $tmp/fastcgi;
	uwsgi_temp_path $tmp/uwsgi;
	scgi_temp_path $tmp/scgi;
	client_max_body_size 512m;
	default_type application/json;
	server {
		listen 80 default_server;
		listen [::]:80 default_server;
		listen 443 ssl http2 default_server;
		listen [::]:443 ssl http2 default_server;
		ssl_certificate $LAB_RUN/tls/server.pem;
		ssl_certificate_key $LAB_RUN/tls/server.key;
		ssl_certificate $LAB_RUN/tls/server-rsa.pem;
		ssl_certificate_key $LAB_RUN/tls/server-rsa.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		# Sessions resume by ticket (default) and, for clients without
		# tickets, by session ID from this cache.
		ssl_session_cache shared:lab:1m;
		location /download/ { alias $LAB_RUN/www/; }
		# Every request body is read to the end before the answer (the
		# proxy buffers it first). A 'return' alone answers HTTP/2 at once
		# and resets the stream: a client still sending a large body stops,
		# and values planted late in the body never leave the phone.
		location / { proxy_pass http://127.0.0.1:8081; }
	}
	server {
		listen 127.0.0.1:8081;
		location / { return 200 '{"code":0,"result":"ok"}\n'; }
	}
}
EOF
}

# lab_listening NS PATTERN: is a socket matching PATTERN listening in NS?
lab_listening() { ss -N "$1" -lntu 2>/dev/null | grep -q -- "$2"; }

# Wait until a listening socket matching a pattern exists in namespace NS.
lab_wait_listen() {
	lab_wait_until "a server listening on $2 in $1" "" lab_listening "$1" "$2"
}

lab_servers_start() {
	lab_make_certs
	lab_write_dnsmasq_conf
	lab_write_nginx_conf
	mkdir -p "$LAB_RUN/www"
	local dnsmasq nginx servers
	lab_spawn "$NS_NET" "$LAB_RUN/dnsmasq.out" dnsmasq -k -C "$LAB_RUN/dnsmasq.conf"
	dnsmasq=$LAB_LAST_PID
	lab_spawn "$NS_NET" "$LAB_RUN/nginx.out" nginx -p "$LAB_RUN" -e "$LAB_RUN/nginx-error.log" \
		-c "$LAB_RUN/nginx.conf"
	nginx=$LAB_LAST_PID
	lab_spawn "$NS_NET" "$LAB_RUN/servers.log" python3 "$LAB_TOOLS/lab-servers.py" \
		"$LAB_TOOLS/catalogue.tsv"
	servers=$LAB_LAST_PID
	lab_wait_until "dnsmasq listening on $LAB_DNS4:53" "$dnsmasq" lab_listening "$NS_NET" "$LAB_DNS4:53"
	lab_wait_until "dnsmasq listening on [$LAB_DNS6]:53" "$dnsmasq" lab_listening "$NS_NET" "\[$LAB_DNS6\]:53"
	lab_wait_until "nginx listening on :443" "$nginx" lab_listening "$NS_NET" ":443"
	# lab-servers.py says ready once every TCP and UDP socket is bound.
	lab_wait_until "lab-servers.py to bind its TCP and UDP ports" "$servers" \
		grep -qs "lab-servers: ready" "$LAB_RUN/servers.log"
	lab_h3_server_start
	lab_log "servers up (dnsmasq, nginx, HTTP/3, tcp/udp services) in $NS_NET"
}

# lab_udp_bound NS PATTERN: is a UDP socket matching PATTERN bound in NS?
lab_udp_bound() { ss -N "$1" -lnu 2>/dev/null | grep -q -- "$2"; }

# HTTP/3 on UDP 443 of every server address: Debian's gtlsserver (ngtcp2 +
# GnuTLS + nghttp3; QUIC v1 and v2 draft), serving LAB_RUN/h3www, where the
# quic step writes a small JSON for every path it requests
# (tools/lab/quic_clients.py). Bound to the wildcard addresses, it answers
# from the address each packet came to. A second one on UDP 8443 validates
# client addresses first: it answers every new connection with a Retry.
# Skipped, with a note, where gtlsserver is not installed: only quic steps
# need it, and they fail saying so.
lab_h3_server_start() {
	if ! command -v gtlsserver >/dev/null; then
		lab_log "gtlsserver missing (package ngtcp2-server): no HTTP/3 server"
		return 0
	fi
	mkdir -p "$LAB_RUN/h3www"
	lab_spawn "$NS_NET" "$LAB_RUN/gtlsserver.log" gtlsserver -q -d "$LAB_RUN/h3www" \
		'*' 443 "$LAB_RUN/tls/server.key" "$LAB_RUN/tls/server.pem"
	local h3=$LAB_LAST_PID
	lab_spawn "$NS_NET" "$LAB_RUN/gtlsserver-retry.log" gtlsserver -q -V -d "$LAB_RUN/h3www" \
		'*' 8443 "$LAB_RUN/tls/server.key" "$LAB_RUN/tls/server.pem"
	local h3retry=$LAB_LAST_PID
	lab_wait_until "gtlsserver bound to UDP 0.0.0.0:443" "$h3" lab_udp_bound "$NS_NET" "0.0.0.0:443 "
	lab_wait_until "gtlsserver bound to UDP [::]:443" "$h3" lab_udp_bound "$NS_NET" "\[::\]:443 "
	lab_wait_until "gtlsserver (Retry) bound to UDP 0.0.0.0:8443" "$h3retry" lab_udp_bound "$NS_NET" "0.0.0.0:8443 "
	lab_wait_until "gtlsserver (Retry) bound to UDP [::]:8443" "$h3retry" lab_udp_bound "$NS_NET" "\[::\]:8443 "
}

# Packets (received + sent) a device in a namespace has carried so far.
lab_link_packets() {
	ip -n "$1" -s -j link show dev "$2" |
		python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["rx"]["packets"] + s["tx"]["packets"])'
}

# lab_tap_add PID NS DEV PATH: a tap the quiet wait must see catch up (PID
# "-" when the tap is not a dumpcap of ours, e.g. privaudit live's evidence
# ring folder). Called once the tap captures: the device's packet count
# from then on is what the tap must hold (docs/lab.md, "Stopping captures").
lab_tap_add() {
	echo "$1 $2 $3 $4 $(lab_link_packets "$2" "$3")" >>"$LAB_RUN/taps"
}

lab_capture_running() { grep -q "Capturing on" "$1" 2>/dev/null && [ -s "$2" ]; }

# lab_capture_start NS IFACE FILE [nopromisc] [DUMPCAP-OPTION...]: dumpcap
# writing pcapng; returns once it captures. The phone's own capture is not
# promiscuous: switching the phone's link to promiscuous mode makes the kernel
# resend its multicast listener reports, which only one of the two taps would
# then see.
lab_capture_start() {
	local ns=$1 dev=$2 file=$3 log=$3.log promisc=
	shift 3
	[ "${1:-}" = nopromisc ] && { promisc=-p; shift; }
	lab_spawn "$ns" "$log" dumpcap -q $promisc "$@" -i "$dev" -s 0 -w "$file"
	lab_wait_until "the capture on $ns/$dev to start" "$LAB_LAST_PID" lab_capture_running "$log" "$file"
	lab_tap_add "$LAB_LAST_PID" "$ns" "$dev" "$file"
}

# lab_captures_finish: once the phone has stopped sending, wait until the lab
# has gone quiet — no connection of the phone still open or closing, the
# delay forwarder drained, every tap holding every packet its device carried
# (tools/lab/taps-quiet.py) — then stop every dumpcap tap at once.
lab_captures_finish() {
	python3 "$LAB_TOOLS/taps-quiet.py" "$LAB_RUN/taps" --phone "$NS_PHONE" --net "$NS_NET" \
		--router "$NS_ROUTER" ${LAB_NO_LATENCY:+--no-forwarder} \
		--timeout "${LAB_WAIT_SECONDS:-120}" || lab_die "the lab did not go quiet (above)"
	# Returns 1 (the reason on stderr) when a tap dropped packets or did not
	# exit by itself: the caller decides (fail, or capture again).
	lab_capture_stop_all
}

# lab_reap SIGNAL PID...: send SIGNAL to our own children and wait for each
# to exit (wait, not /proc: bash keeps a child's exit status until it is
# waited for). A watchdog sends SIGKILL to whatever still runs after
# LAB_STOP_SECONDS (default 30), so a process that ignores SIGNAL cannot
# hang the run. Sets LAB_REAPED_STATUS[pid] to each exit status.
declare -gA LAB_REAPED_STATUS=()
lab_reap() {
	local sig=$1 pid st
	shift
	[ $# -gt 0 ] || return 0
	kill -"$sig" "$@" 2>/dev/null || true
	# The watchdog ends by itself once the processes are gone: it is never
	# signalled, because a signal that reaches a freshly forked child before
	# it has become python would run this shell's traps (and its clean-up)
	# in the child.
	python3 -c '
import os, signal, sys, time
deadline = time.monotonic() + float(sys.argv[1])
pids = [int(p) for p in sys.argv[3:]]
def alive(pid):
	try:
		os.kill(pid, 0)
		return True
	except ProcessLookupError:
		return False
while any(alive(p) for p in pids) and time.monotonic() < deadline:
	time.sleep(0.05)
left = [p for p in pids if alive(p)]
for p in left:
	os.kill(p, signal.SIGKILL)
if left:
	print("lab: still running %s s after SIG%s, killed: %s" % (sys.argv[1], sys.argv[2],
	      " ".join(map(str, left))), file=sys.stderr)' "${LAB_STOP_SECONDS:-30}" "$sig" "$@" \
		</dev/null >/dev/null 2>>"$LAB_RUN/reap.log" &
	local watchdog=$!
	for pid in "$@"; do
		wait "$pid" 2>/dev/null && st=0 || st=$?
		LAB_REAPED_STATUS[$pid]=$st
	done
	wait "$watchdog" 2>/dev/null || true
	[ ! -s "$LAB_RUN/reap.log" ] || { cat "$LAB_RUN/reap.log" >&2; : >"$LAB_RUN/reap.log"; }
	return 0
}

# Stop every dumpcap tap at once (SIGINT lets dumpcap write its last block
# and its statistics) and wait for each to exit. Returns 1 when a tap did
# not exit by itself or dropped packets. Safe during teardown: no waiting for
# quiet, that is lab_captures_finish's job.
lab_capture_stop_all() {
	local taps=$LAB_RUN/taps pid ns dev file base pids=() files=() rc=0 i dropped
	[ -s "$taps" ] || return 0
	while read -r pid ns dev file base; do
		[ "$pid" = - ] && continue
		pids+=("$pid")
		files+=("$file")
	done <"$taps"
	: >"$taps"
	[ ${#pids[@]} -gt 0 ] || return 0
	lab_reap INT "${pids[@]}"
	for i in "${!pids[@]}"; do
		pid=${pids[$i]}
		file=${files[$i]}
		# Reaped: out of the list lab_down signals, so a reused pid is never hit.
		grep -vx "$pid" "$LAB_RUN/pids" >"$LAB_RUN/pids.new" || true
		mv "$LAB_RUN/pids.new" "$LAB_RUN/pids"
		if [ "${LAB_REAPED_STATUS[$pid]:-x}" != 0 ]; then
			echo "lab: dumpcap writing $file ended with status ${LAB_REAPED_STATUS[$pid]:-unknown}:" >&2
			cat "$file.log" >&2
			rc=1
			continue
		fi
		# "Packets received/dropped on interface 'span1': 1234/0 (...)"
		dropped=$(sed -n "s/.*received\/dropped on interface '[^']*': [0-9]*\/\([0-9]*\).*/\1/p" "$file.log")
		if [ "${dropped:-0}" != 0 ]; then
			echo "lab: the capture $file dropped $dropped packet(s)" >&2
			rc=1
		fi
	done
	return $rc
}

# Teardown: safe to call twice and after a partial setup.
lab_down() {
	local rc=$? pid ns pids=()
	[ -n "${LAB_RUN:-}" ] || return $rc
	if [ -f "$LAB_RUN/pids" ]; then
		[ -f "$LAB_RUN/taps" ] && { lab_capture_stop_all || true; }
		while read -r pid; do [ -n "$pid" ] && pids+=("$pid"); done <"$LAB_RUN/pids"
		lab_reap TERM "${pids[@]}"
		: >"$LAB_RUN/pids"
	fi
	for ns in ${LAB_NAMESPACES:-}; do
		# Anything still running inside our own namespaces was started by this run.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
	rmdir /etc/netns 2>/dev/null || true
	LAB_NAMESPACES=
	return $rc
}
