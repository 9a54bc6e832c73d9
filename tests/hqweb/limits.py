# limits.py PORT CA MODE ... — one hostile host against HQ's limits
# (hostile_test.sh). HQ listens on 127.0.0.1; all of 127.0.0.0/8 is
# loopback on Linux, so binding the client to 127.0.0.2 or .4 makes it
# another address to HQ than the scans from 127.0.0.3.
import selectors, socket, ssl, sys, time

port, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False


def raw(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_hq(socks, until):
    """Waits until every socket is closed by HQ or the time `until`
    (monotonic) has come; returns the ones still open then."""
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    left = set(socks)
    while left and time.monotonic() < until:
        for key, _ in sel.select(timeout=max(0.01, until - time.monotonic())):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except ssl.SSLWantReadError:
                continue
            except (ConnectionResetError, ssl.SSLError, OSError):
                data = b""
            if not data:
                sel.unregister(s)
                left.discard(s)
    sel.close()
    return left


if mode == "one-host":
    # 300 idle TCP connections and 300 TLS handshakes that stop after the
    # first bytes, all from 127.0.0.2. HQ admits at most LIMIT of them and
    # closes the rest at once; the admitted ones go at the header deadline.
    limit, deadline, ready = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    t0 = time.monotonic()
    socks = []
    for i in range(300):
        socks.append(raw("127.0.0.2"))
    for i in range(300):
        s = raw("127.0.0.2")
        s.sendall(b"\x16\x03\x01")  # the start of a ClientHello
        socks.append(s)
    opened = time.monotonic() - t0
    left = closed_by_hq(socks, time.monotonic() + 1.0)
    open(ready, "w").write("%d\n" % len(left))  # the caller scans from .3 now
    if len(left) > limit:
        sys.exit("HQ holds %d connections from one address (limit %d)" % (len(left), limit))
    left = closed_by_hq(left, t0 + opened + deadline + 2.5)
    if left:
        sys.exit("%d connections from one address still open %.1f s after opening"
                 % (len(left), time.monotonic() - t0))
    print("600 from one address: at most %d admitted, all closed by %.1f s"
          % (limit, time.monotonic() - t0))
elif mode == "trickle":
    # 10 TLS handshakes and 10 request heads sent one byte every 4 s, from
    # 127.0.0.4: each byte resets libmicrohttpd's idle timeout, only the
    # header deadline ends them.
    deadline = float(sys.argv[4])
    hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40
    head = b"GET /J/SH-JA01/AAAA HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 40
    hs, rq = [], []
    for i in range(10):
        hs.append(raw("127.0.0.4"))
    for i in range(10):
        rq.append(ctx.wrap_socket(raw("127.0.0.4"), server_hostname="127.0.0.1"))
    t0 = time.monotonic()
    n, open_socks = 0, hs + rq
    while open_socks and time.monotonic() - t0 < deadline + 3.5:
        still = []
        for s in open_socks:
            try:
                s.sendall(hello[n:n + 1] if s in hs else head[n:n + 1])
                still.append(s)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                pass
        n += 1
        left = closed_by_hq(still, time.monotonic() + 4.0)
        open_socks = [s for s in still if s in left]
        for s in open_socks:
            s.setblocking(True)
    if open_socks:
        sys.exit("%d trickling connections (%d handshakes, %d request heads) still open "
                 "after %.1f s (header deadline %.0f s)"
                 % (len(open_socks), len([s for s in open_socks if s in hs]),
                    len([s for s in open_socks if s in rq]), time.monotonic() - t0, deadline))
    print("20 trickling connections closed by %.1f s" % (time.monotonic() - t0))
elif mode == "no-cert-body":
    # A 1 MiB batch announced without a client certificate: the 401 must
    # come before any of the body is sent.
    s = ctx.wrap_socket(raw("127.0.0.1"), server_hostname="127.0.0.1")
    s.settimeout(3)
    s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 1048576\r\n\r\n")
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        sys.exit("no answer within 3 s: HQ waits for the body")
    print(data.split(b"\r\n", 1)[0].decode("latin-1"))
