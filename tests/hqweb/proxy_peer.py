# proxy_peer.py — a stand-in load balancer and hostile "balancers" for
# proxy_test.sh. HQ trusts 127.0.0.2 (--trusted-proxy); every connection
# made here to HQ comes from there.
#
#   proxy_peer.py relay HQ_PORT PORTS_FILE SPEC...
#       for each SPEC (a client IPv4 or IPv6 address, or "local"), listens
#       on a free port of 127.0.0.1 and writes the ports to PORTS_FILE, one
#       line each, in order; every connection accepted there is relayed to
#       HQ behind a PROXY protocol v2 header naming that client (port
#       40001), or a LOCAL header (a balancer's health check). Runs until
#       killed.
#   proxy_peer.py bad HQ_PORT KIND...
#       for each KIND in turn, sends one bad start from 127.0.0.2 (v1,
#       garbage, truncated, oversized, unspec, silent, tls) and prints a
#       line "connected" once its start is sent, then "KIND SECONDS": how
#       long HQ took to close the connection ("open" if it had not after
#       5 s); silent opens eight at once and reports the last to close.
import ipaddress, os, socket, struct, sys, threading, time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
TRUSTED = "127.0.0.2"


def v2(client):
    if client == "local":
        return SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    ip = ipaddress.ip_address(client)
    dst = ipaddress.ip_address("127.0.0.1" if ip.version == 4 else "::1")
    fam = 0x11 if ip.version == 4 else 0x21
    body = ip.packed + dst.packed + struct.pack("!HH", 40001, 443)
    # a TLV after the addresses, as haproxy may send (PP2_TYPE_NOOP): skipped
    body += bytes([0x04, 0x00, 0x02, 0xAA, 0xBB])
    return SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def to_hq(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((TRUSTED, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.settimeout(None)
    return s


def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(listener, hq_port, client):
    while True:
        c, _ = listener.accept()
        try:
            h = to_hq(hq_port)
            h.sendall(v2(client))
        except OSError:
            c.close()
            continue
        threading.Thread(target=pipe, args=(c, h), daemon=True).start()
        threading.Thread(target=pipe, args=(h, c), daemon=True).start()


def relay(hq_port, ports_file, specs):
    ports = []
    for spec in specs:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", 0))
        ls.listen(64)
        ports.append(ls.getsockname()[1])
        threading.Thread(target=serve, args=(ls, hq_port, spec), daemon=True).start()
    with open(ports_file + ".tmp", "w") as f:
        f.write("".join("%d\n" % p for p in ports))
    os.rename(ports_file + ".tmp", ports_file)
    while True:
        time.sleep(3600)


def bad(hq_port, kind):
    good = v2("192.0.2.9")
    start = {
        "v1": b"PROXY TCP4 192.0.2.9 127.0.0.1 40001 443\r\n",
        "garbage": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "truncated": good[:20],  # the fixed part and a little: then nothing
        "oversized": SIG + bytes([0x21, 0x11]) + struct.pack("!H", 600) + b"\0" * 64,
        "unspec": SIG + bytes([0x21, 0x00]) + struct.pack("!H", 0),
        "silent": b"",
        # a ClientHello's first bytes, as a client sends without a balancer
        "tls": bytes([0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4, 0x03, 0x03]),
    }[kind]
    # silent: eight at once, as a stalled balancer would leave them
    socks = [to_hq(hq_port) for _ in range(8 if kind == "silent" else 1)]
    t0 = time.monotonic()
    for s in socks:
        if start:
            s.sendall(start)
    print("connected", flush=True)  # the caller may go on
    for s in socks:
        s.settimeout(max(0.01, t0 + 5 - time.monotonic()))
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            print(kind, "open", flush=True)
            return
        except OSError:
            pass
    print(kind, "%.2f" % (time.monotonic() - t0), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "relay":
        relay(int(sys.argv[2]), sys.argv[3], sys.argv[4:])
    else:
        for kind in sys.argv[3:]:
            bad(int(sys.argv[2]), kind)
