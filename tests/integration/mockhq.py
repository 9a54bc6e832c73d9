#!/usr/bin/env python3
"""mockhq.py — a small stand-in for storeqr-hq, for testing storeqr-sync.

Implements the device side of docs/PROTOCOL.md (POST /v1/enroll,
POST /v1/events, GET /v1/config) over mutual TLS, with the same
exactly-once rules: contiguous batches stored in one SQLite transaction,
replays compared by hash and ignored, the hash chain checked, a gap
refused with the seq it expects, acked_seq answered. Certificates are made
with the openssl command. It lets the client and the fault tests run on
their own; tests against the real storeqr-hq run when it is built. Not a
product: no admin routes, no PII, no PostgreSQL.

usage: mockhq.py init DIR
       mockhq.py serve DIR --port-file FILE [--port P] [--max-seconds S]
       mockhq.py code DIR STORE KIOSK        prints a one-time code
       mockhq.py group DIR STORE ID          adds a group (config version + 1)
       mockhq.py erase DIR STORE MEMBER      asks the kiosk to erase a member
       mockhq.py revoke DIR STORE KIOSK
       mockhq.py members DIR                 member ids (blind indexes) from sign-ups
       mockhq.py counts DIR                  JSON: per kiosk events, max seq, types
"""
import base64, hashlib, json, os, secrets, sqlite3, ssl, struct, subprocess, sys, tempfile
import threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "assets", "config", "demo.json")
MAX_BODY = 1 << 20
lock = threading.Lock()


def sh(*args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name):
    sh("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{d}/{name}.key")
    sh("openssl", "req", "-x509", "-new", "-key", f"{d}/{name}.key", "-subj", f"/CN=mock {name}",
       "-days", "30", "-out", f"{d}/{name}.crt")


def sign(d, ca, csr_path, out, cn, ext=None):
    args = ["openssl", "x509", "-req", "-in", csr_path, "-CA", f"{d}/{ca}.crt", "-CAkey",
            f"{d}/{ca}.key", "-CAcreateserial", "-days", "30", "-out", out]
    if ext:
        args += ["-extfile", ext]
    sh(*args)


def db(d):
    c = sqlite3.connect(f"{d}/hq.db", timeout=30, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    return c


def init(d):
    os.makedirs(d, exist_ok=True)
    make_ca(d, "hq-ca")
    make_ca(d, "device-ca")
    sh("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{d}/server.key")
    sh("openssl", "req", "-new", "-key", f"{d}/server.key", "-subj", "/CN=127.0.0.1",
       "-out", f"{d}/server.csr")
    with open(f"{d}/san.ext", "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    sign(d, "hq-ca", f"{d}/server.csr", f"{d}/server.crt", "127.0.0.1", f"{d}/san.ext")
    sh("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{d}/seal.key")
    der = subprocess.run(["openssl", "ec", "-in", f"{d}/seal.key", "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    doc = json.load(open(DEMO))
    doc["version"] = 1
    doc["hq"].pop("url", None)
    doc["keys"] = {"version": 1, "store_key": base64.b64encode(secrets.token_bytes(32)).decode(),
                   "hq_public": base64.b64encode(der[-65:]).decode()}
    for g in doc["groups"]:
        g.pop("expires_at", None)
    c = db(d)
    c.executescript("""
      CREATE TABLE codes(code TEXT PRIMARY KEY, store TEXT, kiosk INT, used INT DEFAULT 0);
      CREATE TABLE kiosks(fp TEXT PRIMARY KEY, store TEXT, kiosk INT, revoked INT DEFAULT 0);
      CREATE TABLE events(kiosk TEXT, seq INT, type TEXT, hash TEXT, payload TEXT,
                          PRIMARY KEY(kiosk, seq));
      CREATE TABLE docs(store TEXT PRIMARY KEY, doc TEXT);
    """)
    c.execute("INSERT INTO docs VALUES(?,?)", (doc["store"]["id"], json.dumps(doc)))


def now_ms():
    return int(time.time() * 1000)


def doc_for(c, store, kiosk):
    row = c.execute("SELECT doc FROM docs WHERE store=?", (store,)).fetchone()
    doc = json.loads(row[0])
    doc["kiosk"] = {"number": kiosk}
    return doc


def chain(prev, seq, typ, ts, body_hash):
    return hashlib.sha256(prev + struct.pack(">q", seq) + typ.encode() + b"\0" +
                          struct.pack(">q", ts) + body_hash).digest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    d = None

    def log_message(self, *a):
        pass

    def answer(self, status, obj=None):
        body = b""
        if obj is not None:
            obj["hq_time_ms"] = now_ms()
            body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def err(self, status, code, msg, **extra):
        self.answer(status, dict(error=code, message=msg, **extra))

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > MAX_BODY:
            return None
        return self.rfile.read(n)

    def kiosk(self, c):
        der = self.connection.getpeercert(binary_form=True)
        if not der:
            return None
        row = c.execute("SELECT store, kiosk FROM kiosks WHERE fp=? AND revoked=0",
                        (hashlib.sha256(der).hexdigest(),)).fetchone()
        return row

    def do_POST(self):
        raw = self.body()
        if raw is None:
            self.close_connection = True
            return self.err(413, "too_large", "body exceeds 1 MiB")
        try:
            req = json.loads(raw)
        except ValueError:
            return self.err(400, "bad_request", "malformed JSON")
        with lock:
            c = db(self.d)
            try:
                if self.path == "/v1/enroll":
                    return self.enroll(c, req)
                if self.path == "/v1/events":
                    return self.events(c, req)
                return self.err(404, "not_found", "no such route")
            finally:
                c.close()

    def do_GET(self):
        if not self.path.startswith("/v1/config"):
            return self.err(404, "not_found", "no such route")
        since = int(self.path.partition("since=")[2] or 0)
        with lock:
            c = db(self.d)
            try:
                k = self.kiosk(c)
                if not k:
                    return self.err(401, "certificate", "no valid client certificate")
                doc = doc_for(c, k[0], k[1])
            finally:
                c.close()
        if since >= doc["version"]:
            self.send_response(304)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.answer(200, doc)

    def enroll(self, c, req):
        code = str(req.get("code", "")).replace("-", "").upper()
        row = c.execute("SELECT store, kiosk, used FROM codes WHERE code=?", (code,)).fetchone()
        if not row:
            return self.err(403, "code_unknown", "unknown enrolment code")
        if row[2]:
            return self.err(403, "code_used", "this enrolment code was already used")
        with tempfile.TemporaryDirectory() as t:
            open(f"{t}/req.csr", "w").write(req.get("csr", ""))
            try:
                sh("openssl", "req", "-in", f"{t}/req.csr", "-verify", "-noout")
                sh("openssl", "x509", "-req", "-in", f"{t}/req.csr", "-CA", f"{self.d}/device-ca.crt",
                   "-CAkey", f"{self.d}/device-ca.key", "-CAcreateserial", "-days", "30",
                   "-subj", f"/CN={row[0]}\\/{row[1]}", "-out", f"{t}/k.crt")
            except subprocess.CalledProcessError:
                return self.err(400, "bad_request", "csr: not a valid signed request")
            pem = open(f"{t}/k.crt").read()
            der = subprocess.run(["openssl", "x509", "-in", f"{t}/k.crt", "-outform", "DER"],
                                 check=True, capture_output=True).stdout
        c.execute("BEGIN IMMEDIATE")
        c.execute("UPDATE codes SET used=1 WHERE code=?", (code,))
        c.execute("INSERT INTO kiosks(fp, store, kiosk) VALUES(?,?,?)",
                  (hashlib.sha256(der).hexdigest(), row[0], row[1]))
        c.execute("COMMIT")
        self.answer(200, {"store_id": row[0], "kiosk": row[1], "certificate": pem,
                          "hq_ca": open(f"{self.d}/hq-ca.crt").read(),
                          "config": doc_for(c, row[0], row[1])})

    def events(self, c, req):
        k = self.kiosk(c)
        if not k:
            return self.err(401, "certificate", "no valid client certificate")
        kid = f"{k[0]}/{k[1]}"
        if req.get("kiosk") != kid:
            return self.err(403, "wrong_kiosk", "kiosk does not match the certificate")
        evs = req.get("events")
        if not isinstance(evs, list) or not 1 <= len(evs) <= 500:
            return self.err(400, "bad_request", "events: 1..500 expected")
        c.execute("BEGIN IMMEDIATE")
        try:
            acked = c.execute("SELECT coalesce(max(seq),0) FROM events WHERE kiosk=?",
                              (kid,)).fetchone()[0]
            held = dict(c.execute("SELECT seq, hash FROM events WHERE kiosk=? AND seq>=?",
                                  (kid, evs[0]["seq"] - 1)).fetchall())
            prev = bytes.fromhex(held[evs[0]["seq"] - 1]) if evs[0]["seq"] > 1 and \
                evs[0]["seq"] - 1 in held else bytes(32)
            if evs[0]["seq"] > acked + 1:
                c.execute("ROLLBACK")
                return self.err(409, "gap", "first seq is beyond what HQ holds",
                                expected_seq=acked + 1)
            for i, e in enumerate(evs):
                seq = e["seq"]
                if seq != evs[0]["seq"] + i:
                    c.execute("ROLLBACK")
                    return self.err(400, "bad_request", "events: not contiguous")
                if seq <= acked:
                    if held.get(seq) != e["hash"]:
                        c.execute("ROLLBACK")
                        return self.err(422, "chain_broken", "replayed event differs", seq=seq)
                    prev = bytes.fromhex(e["hash"])
                    continue
                h = chain(prev, seq, e["type"], e["ts_ms"], bytes.fromhex(e["body_hash"]))
                if h.hex() != e["hash"]:
                    c.execute("ROLLBACK")
                    return self.err(422, "chain_broken", "hash does not chain", seq=seq)
                c.execute("INSERT INTO events VALUES(?,?,?,?,?)",
                          (kid, seq, e["type"], e["hash"], json.dumps(e["payload"])))
                if e["type"] == "erase":
                    self.erased(c, k[0], e["payload"].get("member"))
                prev = h
            acked = c.execute("SELECT coalesce(max(seq),0) FROM events WHERE kiosk=?",
                              (kid,)).fetchone()[0]
            c.execute("COMMIT")
        except (KeyError, TypeError, ValueError):
            c.execute("ROLLBACK")
            return self.err(400, "bad_request", "events: wrong types")
        self.answer(200, {"acked_seq": acked})

    def erased(self, c, store, member):
        doc = json.loads(c.execute("SELECT doc FROM docs WHERE store=?", (store,)).fetchone()[0])
        if member in doc.get("erasures", []):
            doc["erasures"].remove(member)
            doc["version"] += 1
            c.execute("UPDATE docs SET doc=? WHERE store=?", (json.dumps(doc), store))


def edit_doc(d, store, fn):
    c = db(d)
    doc = json.loads(c.execute("SELECT doc FROM docs WHERE store=?", (store,)).fetchone()[0])
    fn(doc)
    doc["version"] += 1
    c.execute("UPDATE docs SET doc=? WHERE store=?", (json.dumps(doc), store))


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "init":
        init(d)
    elif cmd == "serve":
        a = sys.argv[3:]
        port_file = a[a.index("--port-file") + 1]
        limit = float(a[a.index("--max-seconds") + 1]) if "--max-seconds" in a else 600
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(f"{d}/server.crt", f"{d}/server.key")
        ctx.load_verify_locations(f"{d}/device-ca.crt")
        ctx.verify_mode = ssl.CERT_OPTIONAL
        Handler.d = d
        port = int(a[a.index("--port") + 1]) if "--port" in a else 0
        ThreadingHTTPServer.allow_reuse_address = True
        ThreadingHTTPServer.handle_error = lambda *a: None  # cut connections are the point
        srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        srv.daemon_threads = True
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        with open(port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(port_file + ".tmp", port_file)
        threading.Timer(limit, srv.shutdown).start()
        srv.serve_forever()
        os._exit(0)
    elif cmd == "code":
        code = base64.b32encode(secrets.token_bytes(10)).decode()
        db(d).execute("INSERT INTO codes(code, store, kiosk) VALUES(?,?,?)",
                      (code, sys.argv[3], int(sys.argv[4])))
        print("-".join(code[i:i + 4] for i in range(0, 16, 4)))
    elif cmd == "group":
        gid = sys.argv[4]
        edit_doc(d, sys.argv[3], lambda doc: doc["groups"].append(
            {"id": gid, "kind": "store", "name": gid, "link": f"https://weixin.qq.com/g/{gid}"}))
    elif cmd == "erase":
        m = sys.argv[4]
        edit_doc(d, sys.argv[3], lambda doc: doc.setdefault("erasures", []).append(m))
    elif cmd == "revoke":
        db(d).execute("UPDATE kiosks SET revoked=1 WHERE store=? AND kiosk=?",
                      (sys.argv[3], int(sys.argv[4])))
    elif cmd == "members":
        for (p,) in db(d).execute("SELECT payload FROM events WHERE type='signup' ORDER BY seq"):
            print(json.loads(p)["member"])
    elif cmd == "counts":
        c = db(d)
        out = {}
        for kid, n, mx in c.execute("SELECT kiosk, count(*), max(seq) FROM events GROUP BY kiosk"):
            types = dict(c.execute("SELECT type, count(*) FROM events WHERE kiosk=? GROUP BY type",
                                   (kid,)).fetchall())
            out[kid] = {"events": n, "max_seq": mx, "types": types}
        print(json.dumps(out))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
