# public_cert.sh — sourced by tests that need HQ's public certificate (a
# name phones open, from a CA that is not HQ's, picked by SNI).
#
# public_cert DIR [NAME] [DAYS]: DIR/ca.pem (+ ca.key), a test CA, and
# DIR/scan.pem + DIR/scan.key for NAME (default scan.test), valid DAYS
# (default 30); DIR/scan.csr and DIR/ext stay for a second certificate of
# the same key. Returns non-zero when openssl fails.
public_cert() {
  local d=$1 name=${2:-scan.test} days=${3:-30}
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=storeqr-test-public-ca -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
      -keyout "$d/scan.key" -out "$d/scan.csr" 2>/dev/null &&
    printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$name" >"$d/ext" &&
    openssl x509 -req -in "$d/scan.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
      -days "$days" -extfile "$d/ext" -out "$d/scan.pem" 2>/dev/null
}
