"""The official C2PA SDK (c2pa-python) as a test oracle for Tracemark's credentials.

  verify FILE MIME [--sidecar STORE] [--anchors PEM]   -> JSON: state, failures, labels
  sign FILE OUT MIME CHAIN KEY ALG [--sidecar]         -> signs with the official SDK
  bench ...                                            -> timings (see benches/README)
"""
import argparse, io, json, sys, time

import c2pa

MANIFEST = {
    "claim_generator_info": [{"name": "c2pa-python-oracle", "version": "1"}],
    "title": "official",
    "assertions": [
        {"label": "c2pa.actions.v2", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}},
        {"label": "cawg.training-mining", "data": {"entries": {
            "cawg.ai_generative_training": {"use": "notAllowed"},
            "cawg.data_mining": {"use": "allowed"}}}},
    ],
}


# The assertions Tracemark writes for the benchmark's spec (model "bench-model" 1,
# provider "Bench", generation "gen-1", no watermark), for a like-for-like size.
TRACEMARK_LIKE = {
    "claim_generator_info": [{"name": "bench-model", "version": "1", "org.tracemark.version": "0.1.0"}],
    "assertions": [
        {"label": "c2pa.actions.v2", "data": {"actions": [{
            "action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
            "softwareAgent": {"name": "bench-model", "version": "1"},
            "when": "2026-11-29T20:00:00.000000000Z"}]}},
        {"label": "org.tracemark.aigc", "data": {"AIGC": {
            "Label": "1", "ContentProducer": "Bench", "ProduceID": "gen-1", "ReservedCode1": "",
            "ContentPropagator": "", "PropagateID": "", "ReservedCode2": ""}}},
        {"label": "org.tracemark.sb942-disclosure", "data": {
            "provider": "Bench", "system_name": "bench-model", "system_version": "1",
            "time": "2026-11-29T20:00:00.000000000Z", "unique_id": "gen-1"}},
    ],
}


# What a caller of the SDK typically writes: the created action only.
MINIMAL = {
    "claim_generator_info": [{"name": "bench", "version": "1"}],
    "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": [{
        "action": "c2pa.created",
        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}],
}


def context(anchors):
    settings = {"builder": {"thumbnail": {"enabled": False}}, "verify": {"ocsp_fetch": False}}
    if anchors:
        settings["trust"] = {"trust_anchors": open(anchors).read()}
    return c2pa.Context.from_dict(settings)


def read(path, mime, sidecar, anchors):
    ctx = context(anchors)
    with open(path, "rb") as f:
        data = open(sidecar, "rb").read() if sidecar else None
        r = c2pa.Reader(mime, f, manifest_data=data, context=ctx)
        state = r.get_validation_state()
        results = r.get_validation_results() or {}
        active = results.get("activeManifest", {})
        failures = [s["code"] for s in active.get("failure", [])]
        manifest = r.get_active_manifest() or {}
        labels = [a["label"] for a in manifest.get("assertions", [])]
        return {"state": state, "failures": failures, "labels": labels,
                "ingredients": len(manifest.get("ingredients", []))}


def signer(chain, key, alg):
    info = c2pa.C2paSignerInfo(alg.encode(), open(chain, "rb").read(), open(key, "rb").read(), None)
    return c2pa.Signer.from_info(info)


def sign(path, out, mime, chain, key, alg, sidecar):
    s = signer(chain, key, alg)
    b = c2pa.Builder(json.dumps(MANIFEST), context=context(None))
    if sidecar:
        b.set_no_embed()
    with open(path, "rb") as src:
        dst = io.BytesIO()
        store = b.sign(s, mime, src, dst)
    with open(out, "wb") as f:
        f.write(store if sidecar else dst.getvalue())


def bench(path, mime, chain, key, alg, sidecar, n, like):
    s = signer(chain, key, alg)
    manifest = TRACEMARK_LIKE if like else MINIMAL
    content = open(path, "rb").read()
    ctx = context(None)
    t0 = time.perf_counter()
    for _ in range(n):
        b = c2pa.Builder(json.dumps(manifest), context=ctx)
        if sidecar:
            b.set_no_embed()
        dst = io.BytesIO()
        store = b.sign(s, mime, io.BytesIO(content), dst)
    t_sign = (time.perf_counter() - t0) / n
    signed = dst.getvalue()
    t0 = time.perf_counter()
    for _ in range(n):
        if sidecar:
            r = c2pa.Reader(mime, io.BytesIO(content), manifest_data=store, context=ctx)
        else:
            r = c2pa.Reader(mime, io.BytesIO(signed), context=ctx)
        r.get_validation_state()
    t_read = (time.perf_counter() - t0) / n
    print(json.dumps({"sign_ms": t_sign * 1e3, "read_ms": t_read * 1e3, "manifest_bytes": len(store)}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify"); v.add_argument("file"); v.add_argument("mime")
    v.add_argument("--sidecar"); v.add_argument("--anchors")
    s = sub.add_parser("sign")
    for a in ("file", "out", "mime", "chain", "key", "alg"):
        s.add_argument(a)
    s.add_argument("--sidecar", action="store_true")
    b = sub.add_parser("bench")
    for a in ("file", "mime", "chain", "key", "alg"):
        b.add_argument(a)
    b.add_argument("--sidecar", action="store_true"); b.add_argument("-n", type=int, default=200)
    b.add_argument("--like-tracemark", action="store_true")
    a = p.parse_args()
    if a.cmd == "verify":
        print(json.dumps(read(a.file, a.mime, a.sidecar, a.anchors)))
    elif a.cmd == "sign":
        sign(a.file, a.out, a.mime, a.chain, a.key, a.alg, a.sidecar)
    else:
        bench(a.file, a.mime, a.chain, a.key, a.alg, a.sidecar, a.n, a.like_tracemark)


if __name__ == "__main__":
    main()
