#!/usr/bin/env python3
"""Plain TCP and UDP services of the lab "internet" (runs in the net namespace).

TCP 5222 (push-style long connection) and 9000: answer every chunk received
with "OK <n>\\n" until the client closes. UDP 8000 and 9001: answer every
datagram with "ACK <n>". UDP sockets are bound per address so that each reply
leaves from the address the phone sent to, as a real server's would.

usage: lab-servers.py CATALOGUE.tsv
"""
import socket
import selectors
import sys

TCP_PORTS = (5222, 9000)
UDP_PORTS = (8000, 9001)


def catalogue_addresses(path):
	addrs = set()
	with open(path, encoding="utf-8") as f:
		for line in f:
			cols = line.split()
			if len(cols) < 4 or line.startswith("#"):
				continue
			addrs.add(cols[1])
			if cols[2] != "-":
				addrs.add(cols[2])
	return sorted(addrs)


def main():
	sel = selectors.DefaultSelector()
	for port in TCP_PORTS:
		for family, any_addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
			s = socket.socket(family, socket.SOCK_STREAM)
			s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
			if family == socket.AF_INET6:
				s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
			s.bind((any_addr, port))
			s.listen(64)
			s.setblocking(False)
			sel.register(s, selectors.EVENT_READ, "listen")
	for addr in catalogue_addresses(sys.argv[1]):
		family = socket.AF_INET6 if ":" in addr else socket.AF_INET
		for port in UDP_PORTS:
			u = socket.socket(family, socket.SOCK_DGRAM)
			u.bind((addr, port))
			u.setblocking(False)
			sel.register(u, selectors.EVENT_READ, "udp")
	print("lab-servers: ready", flush=True)
	while True:
		for key, _ in sel.select():
			sock = key.fileobj
			if key.data == "listen":
				try:
					conn, _ = sock.accept()
				except BlockingIOError:
					continue
				conn.setblocking(False)
				sel.register(conn, selectors.EVENT_READ, "tcp")
			elif key.data == "tcp":
				try:
					data = sock.recv(65536)
				except (BlockingIOError, ConnectionError):
					data = b""
				if not data:
					sel.unregister(sock)
					sock.close()
					continue
				try:
					sock.send(b"OK %d\n" % len(data))
				except OSError:
					pass
			else:
				try:
					data, peer = sock.recvfrom(65536)
				except BlockingIOError:
					continue
				sock.sendto(b"ACK %d" % len(data), peer)


if __name__ == "__main__":
	try:
		main()
	except KeyboardInterrupt:
		pass
