#!/usr/bin/env bash
# Development PKI for kdesk desks with plain OpenSSL: the same files and certificate profile
# as `kdesk certs`, so an agency with its own PKI sees exactly what a kdesk node expects.
#
#   gen-dev-pki.sh ca   CC OUT_DIR                       -> OUT_DIR/ca.pem, OUT_DIR/ca.key (0600)
#   gen-dev-pki.sh node CA_DIR CC NODE OUT_DIR HOST...   -> OUT_DIR/node.pem, node.key (0600), ca.pem
#   gen-dev-pki.sh crl  CA_DIR OUT_FILE [CERT...]        -> CRL revoking CERT... (may be empty)
#
# Profile (what kdesk checks):
#   CA:   self-signed, basicConstraints critical CA:TRUE pathlen:0, keyUsage keyCertSign+cRLSign,
#         subject C=<CC> (kdesk refuses a partner CA whose C= names another country).
#   node: basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth +
#         clientAuth, subjectAltName URI:kdesk://<CC>/<node> (exactly one) plus DNS/IP of HOSTs.
#         A partner accepts it only if it chains to the CA registered for <CC>.
# Keys are ECDSA P-256, PKCS#8 PEM. Throwaway development material: never commit the keys.
set -euo pipefail
umask 077

die() { echo "gen-dev-pki.sh: $*" >&2; exit 2; }
need_new() { [ ! -e "$1" ] || die "$1 exists; refusing to overwrite"; }

cmd=${1:-}; shift || true
case "$cmd" in
ca)
    [ $# -eq 2 ] || die "usage: gen-dev-pki.sh ca CC OUT_DIR"
    cc=$1; out=$2
    [[ $cc =~ ^[A-Z]{2}$ ]] || die "CC must be an ISO 3166-1 alpha-2 code in capitals"
    mkdir -p "$out"; need_new "$out/ca.pem"; need_new "$out/ca.key"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 \
        -subj "/C=$cc/O=kdesk desk $cc/CN=kdesk $cc desk CA" \
        -set_serial "0x$(openssl rand -hex 15)" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$out/ca.pem"
    chmod 644 "$out/ca.pem"
    echo "national CA for $cc: $out/ca.pem, $out/ca.key"
    ;;
node)
    [ $# -ge 5 ] || die "usage: gen-dev-pki.sh node CA_DIR CC NODE OUT_DIR HOST..."
    ca=$1; cc=$2; node=$3; out=$4; shift 4
    [[ $node =~ ^[a-z][a-z0-9-]{0,31}$ ]] || die "NODE must be 1-32 of a-z, 0-9, '-', starting with a letter"
    mkdir -p "$out"; need_new "$out/node.pem"; need_new "$out/node.key"
    san="URI:kdesk://$cc/$node"
    for h in "$@"; do
        if [[ $h =~ ^[0-9.]+$ || $h == *:* ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
    done
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    cat > "$tmp/ext.cnf" <<CNF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
CNF
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/node.key" 2>/dev/null
    openssl req -new -key "$out/node.key" -subj "/C=$cc/O=kdesk desk $cc/CN=$cc\/$node" -out "$tmp/node.csr"
    openssl x509 -req -in "$tmp/node.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -sha256 -days 730 \
        -set_serial "0x$(openssl rand -hex 15)" -extfile "$tmp/ext.cnf" -out "$out/node.pem" 2>/dev/null
    chmod 644 "$out/node.pem"
    [ -e "$out/ca.pem" ] || { cp "$ca/ca.pem" "$out/ca.pem"; chmod 644 "$out/ca.pem"; }
    echo "node certificate for kdesk://$cc/$node in $out"
    ;;
crl)
    [ $# -ge 2 ] || die "usage: gen-dev-pki.sh crl CA_DIR OUT_FILE [CERT...]"
    ca=$1; out=$2; shift 2
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    touch "$tmp/index.txt"; echo 01 > "$tmp/crlnumber"
    cat > "$tmp/ca.cnf" <<CNF
[ca]
default_ca = dev
[dev]
database = $tmp/index.txt
crlnumber = $tmp/crlnumber
certificate = $ca/ca.pem
private_key = $ca/ca.key
default_md = sha256
default_crl_days = 30
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
CNF
    for c in "$@"; do openssl ca -config "$tmp/ca.cnf" -revoke "$c" -crl_reason keyCompromise 2>/dev/null; done
    openssl ca -config "$tmp/ca.cnf" -gencrl -out "$out" 2>/dev/null
    chmod 644 "$out"
    echo "CRL revoking $# certificate(s) written to $out"
    ;;
*)
    sed -n '2,17p' "$0" >&2
    exit 2
    ;;
esac
