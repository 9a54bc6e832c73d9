#!/usr/bin/env python3
"""seal_vectors.py — known-answer boxes for tests/sync/test_seal_fast.c,
made without any StoreQR code: python3-cryptography does the ECDH, HKDF
and AES-GCM of seal.h's construction, and `openssl pkeyutl -derive`
recomputes every shared secret as a second, independent check.

usage: tests/sync/seal_vectors.py > tests/sync/seal_vectors.h
Deterministic (fixed seed), so the header only changes when this does.
Test keys and made-up numbers only.
"""
import os, random, subprocess, sys, tempfile
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"storeqr/v1/seal"
rng = random.Random(20261206)
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def key(d):
    return ec.derive_private_key(d, ec.SECP256R1())


def pub_bytes(k):
    return k.public_key().public_bytes(serialization.Encoding.X962,
                                       serialization.PublicFormat.UncompressedPoint)


def openssl_shared(priv, peer):
    """The ECDH shared X by the openssl CLI, from PEM files."""
    with tempfile.TemporaryDirectory() as t:
        a, b = os.path.join(t, "a.pem"), os.path.join(t, "b.pem")
        with open(a, "wb") as f:
            f.write(priv.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        with open(b, "wb") as f:
            f.write(peer.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
        return subprocess.run(["openssl", "pkeyutl", "-derive", "-inkey", a, "-peerkey", b],
                              check=True, capture_output=True).stdout


def box(hq, eph, plain, nonce):
    shared = eph.exchange(ec.ECDH(), hq.public_key())
    assert shared == openssl_shared(eph, hq) == openssl_shared(hq, eph)
    salt = pub_bytes(eph) + pub_bytes(hq)
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO).derive(shared)
    aad = b"\x01" + pub_bytes(eph)
    return shared, aad + nonce + AESGCM(k).encrypt(nonce, plain, aad)


def c_bytes(b):
    return "".join("\\x%02x" % x for x in b)


hq_d = rng.randrange(1, N)
hq = key(hq_d)
cases = [("a phone number", b"13812345678"), ("empty", b""), ("64 bytes", bytes(range(48, 112))),
         ("another phone", b"15900001111")]
out = []
for i, (name, plain) in enumerate(cases):
    eph_d = rng.randrange(1, N)
    if i == 3:
        # A shared X with a leading zero byte: the IKM must still be 32
        # bytes (left-padded), or the key comes out wrong.
        while key(eph_d).exchange(ec.ECDH(), hq.public_key())[0] != 0:
            eph_d = rng.randrange(1, N)
        name += ", shared X starting with a zero byte"
    eph = key(eph_d)
    nonce = bytes(rng.randrange(256) for _ in range(12))
    shared, b = box(hq, eph, plain, nonce)
    out.append((name, plain, shared, b))

print("/* seal_vectors.h — made by seal_vectors.py (python3-cryptography, checked")
print(" * against openssl pkeyutl -derive); do not edit. Test keys only. */")
print("static const uint8_t kat_hq_priv[32] = \"%s\";" % c_bytes(hq_d.to_bytes(32, "big")))
print("static const uint8_t kat_hq_pub[65] = \"%s\";" % c_bytes(pub_bytes(hq)))
print("static const struct kat {\n  const char *name;\n  const char *plain;\n  size_t plain_len;")
print("  const uint8_t shared[32]; /* ECDH X: documents the vector */\n  const uint8_t *box;\n  size_t box_len;\n} kats[] = {")
for name, plain, shared, b in out:
    print('  {"%s", "%s", %d, "%s",\n   (const uint8_t *)"%s", %d},' %
          (name, c_bytes(plain), len(plain), c_bytes(shared), c_bytes(b), len(b)))
print("};")
