#!/usr/bin/env bash
# Makes the committed OMS bundles of older model_signing releases (PyPI), which
# tests/fixtures.rs verifies: each release signs a copy of models/tinystories-260k with
# a fresh P-256 key (the `key` method); 0.3.1 and 1.0.1 also sign its model.bin alone
# (their single-file resource is named "."), and 1.0.1 signs with a certificate chain.
# Only public material is kept: key.pub, root.pem and the bundles; the private keys stay
# in the work folder. Each bundle is verified by its own release before it is kept.
#
#   bash crates/tracemark-model/tests/data/oms-fixtures/make-fixtures.sh [WORK_DIR]
#
# Throwaway virtual environments go in WORK_DIR (default: a new folder under /tmp). The
# older releases import packages they do not declare (pyOpenSSL; sigstore-protobuf-specs
# once sigstore 4 dropped it), installed here beside them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../../.." && pwd)
model="$repo/models/tinystories-260k"
work=${1:-$(mktemp -d /tmp/oms-fixtures.XXXXXX)}
mkdir -p "$work"
echo "work folder: $work"

venv() {
  local v=$1; shift
  if [ ! -d "$work/venv-$v/lib" ]; then
    python3 -m venv "$work/venv-$v"
  fi
  "$work/venv-$v/bin/pip" install -q "model-signing==$v" "$@"
}
venv 0.2.0 sigstore-protobuf-specs==0.3.2
venv 0.3.1 pyopenssl sigstore==3.6.7
venv 1.0.1 pyopenssl sigstore==3.6.7
venv 1.1.0 pyopenssl==26.4.0

# Keys and a certificate chain (root P-384, intermediate P-384, leaf P-256), made with
# the cryptography package the releases use.
"$work/venv-1.0.1/bin/python" - "$work" <<'PY'
import datetime, sys, pathlib
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

work = pathlib.Path(sys.argv[1])
def pem_private(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
def pem_public(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

key = ec.generate_private_key(ec.SECP256R1())
(work / "key.pem").write_bytes(pem_private(key))
(work / "key.pub").write_bytes(pem_public(key))

now = datetime.datetime.now(datetime.timezone.utc)
def cert(subject, subject_key, issuer, issuer_key, ca, hash_alg):
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
         .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
         .public_key(subject_key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=3650))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    return b.sign(issuer_key, hash_alg)
root_key = ec.generate_private_key(ec.SECP384R1())
int_key = ec.generate_private_key(ec.SECP384R1())
leaf_key = ec.generate_private_key(ec.SECP256R1())
root = cert("Fixture Root CA", root_key, "Fixture Root CA", root_key, True, hashes.SHA384())
inter = cert("Fixture Intermediate CA", int_key, "Fixture Root CA", root_key, True, hashes.SHA384())
leaf = cert("Fixture Model Signer", leaf_key, "Fixture Intermediate CA", int_key, False, hashes.SHA256())
pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
(work / "root.pem").write_bytes(pem(root))
(work / "int.pem").write_bytes(pem(inter))
(work / "leaf.pem").write_bytes(pem(leaf))
(work / "leaf-key.pem").write_bytes(pem_private(leaf_key))
PY

fresh() { rm -rf "$work/m-$1"; cp -r "$model" "$work/m-$1"; echo "$work/m-$1"; }
out="$work/out"; rm -rf "$out"; mkdir -p "$out"

# 0.2.0: its CLI signs only with Sigstore; its API signs with a key (v0.1 predicate,
# the PAE of that release).
m=$(fresh 0.2.0)
"$work/venv-0.2.0/bin/python" - "$m" "$work/key.pem" "$out/v0.2.0-key.sig" <<'PY'
import pathlib, sys
from model_signing import api
from model_signing.signature import key
from model_signing.signing import in_toto_signature
from model_signing.signing import in_toto
model, private, sig = sys.argv[1:]
# SigningConfig() would make a Sigstore signer (its default) first: sign by hand.
manifest = api.HashingConfig().hash(pathlib.Path(model))
payload = in_toto.DigestsIntotoPayload.from_manifest(manifest)
signer = in_toto_signature.IntotoSigner(key.ECKeySigner.from_path(private))
signer.sign(payload).write(pathlib.Path(sig))
PY
"$work/venv-0.2.0/bin/python" - "$m" "$work/key.pub" "$out/v0.2.0-key.sig" <<'PY'
import pathlib, sys
from model_signing import api
from model_signing.signature import key
from model_signing.signing import in_toto_signature
model, public, sig = sys.argv[1:]
verifier = in_toto_signature.IntotoVerifier(key.ECKeyVerifier.from_path(public))
signed = verifier.verify(in_toto_signature.IntotoSignature.read(pathlib.Path(sig)))
assert signed == api.HashingConfig().hash(pathlib.Path(model)), "0.2.0 does not verify its own bundle"
PY

# model_signing's CLI of 0.3.1 and 1.0.x builds a Sigstore signer before any other (and
# Sigstore fetches its trust root from the network): run the CLI with that step skipped,
# which the key and certificate methods do not use.
ms() {
  local v=$1; shift
  "$work/venv-$v/bin/python" -c 'import sys, model_signing.signing as s
s.Config.use_sigstore_signer = lambda self, *a, **k: self
from model_signing._cli import main
sys.argv[0] = "model_signing"
main()' "$@"
}

for v in 0.3.1 1.0.1 1.1.0; do
  m=$(fresh "$v")
  ms "$v" sign key --private_key "$work/key.pem" --signature "$out/v$v-key.sig" "$m"
  ms "$v" verify key --public_key "$work/key.pub" --signature "$out/v$v-key.sig" "$m"
done
for v in 0.3.1 1.0.1; do
  m=$(fresh "$v")
  ms "$v" sign key --private_key "$work/key.pem" --signature "$out/v$v-key-single-file.sig" "$m/model.bin"
  ms "$v" verify key --public_key "$work/key.pub" --signature "$out/v$v-key-single-file.sig" "$m/model.bin"
done
m=$(fresh 1.0.1)
ms 1.0.1 sign certificate --private_key "$work/leaf-key.pem" \
  --signing_certificate "$work/leaf.pem" --certificate_chain "$work/int.pem" \
  --signature "$out/v1.0.1-certificate.sig" "$m"
ms 1.0.1 verify certificate --certificate_chain "$work/root.pem" \
  --signature "$out/v1.0.1-certificate.sig" "$m"

cp "$out"/*.sig "$work/key.pub" "$work/root.pem" "$here/"
echo "fixtures written to $here"
