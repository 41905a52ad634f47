"""The baseline beside Tracemark's image mark: invisible-watermark's dwtDct and dwtDctSvd
(the methods Stable Diffusion pipelines use) on the same pictures and the same attacks.

Out of CI: it needs a private environment with the reference package (see
fixtures/make_sd_fixtures.py for the install; add scikit-image for SSIM), and it runs the
Rust evaluation binary for the pictures and the attacks, so both methods see byte-identical
attacked files made by one piece of code (tracemark_media::attack).

    /var/cache/tracemark/venv-imwm/bin/python crates/tracemark-media/benches/baseline_imwm.py \\
        --work /tmp/tm-baseline --natural $SKIMAGE_DATA --synthetic 16 --per-image 2

Each method is measured at its default strength (scale 36, as SD uses it) and at the
strength whose PSNR matches Tracemark's mark on the same picture (bisection on the scale).
A payload is recovered when all 64 bits are read back exactly (the package has no error
correction); the mean bit accuracy is shown beside it.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import types
import zlib

import cv2
import numpy as np

for _name in ("torch", "onnxruntime"):  # RivaGAN's imports; dwtDct needs neither
    sys.modules.setdefault(_name, types.ModuleType(_name))
from imwatermark import WatermarkDecoder, WatermarkEncoder  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
METHODS = ["dwtDct", "dwtDctSvd"]


def bench(*args: str) -> None:
    cmd = ["cargo", "bench", "-q", "-p", "tracemark-media", "--bench", "media_eval", "--", *args]
    subprocess.run(cmd, cwd=ROOT, check=True)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    ya = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    yb = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
    return float(structural_similarity(ya, yb, data_range=255, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False))


def payload(name: str) -> list:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return [int(b) for b in rng.integers(0, 2, 64)]


def embed(bgr: np.ndarray, bits: list, method: str, scale: float) -> np.ndarray:
    enc = WatermarkEncoder()
    enc.set_watermark("bits", bits)
    return enc.encode(bgr, method, scales=[0, scale, scale])


def matched_scale(bgr, bits, method, target) -> float:
    lo, hi = 1.0, 200.0
    for _ in range(18):
        mid = (lo * hi) ** 0.5
        if psnr(bgr, embed(bgr, bits, method, mid)) > target:
            lo = mid
        else:
            hi = mid
    return (lo * hi) ** 0.5


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--natural")
    ap.add_argument("--synthetic", default="16")
    ap.add_argument("--per-image", default="2")
    opts = ap.parse_args()
    work = pathlib.Path(opts.work)
    set_args = ["--synthetic", opts.synthetic, "--per-image", opts.per_image]
    if opts.natural:
        set_args += ["--natural", opts.natural]
    bench("export", "--out", str(work), *set_args)
    names = sorted(p.name for p in (work / "orig").glob("*.png"))
    quality = {}
    scales = {}
    for method in METHODS:
        for strength in ["default", "matched"]:
            tag = f"{method}-{strength}"
            out = work / "marked" / tag
            out.mkdir(parents=True, exist_ok=True)
            ps, ss = [], []
            for name in names:
                bgr = cv2.imread(str(work / "orig" / name))
                ours = cv2.imread(str(work / "ours" / name))
                bits = payload(name)
                scale = 36.0 if strength == "default" else matched_scale(bgr, bits, method, psnr(bgr, ours))
                scales[(tag, name)] = scale
                marked = np.clip(np.round(embed(bgr, bits, method, scale)), 0, 255).astype(np.uint8)
                cv2.imwrite(str(out / name), marked)
                ps.append(psnr(bgr, marked))
                ss.append(ssim(bgr, marked))
            quality[tag] = (np.mean(ps), np.mean(ss))
            bench("attack-dir", "--in", str(out), "--out", str(work / "attacked" / tag))
    ours_q = [(psnr(cv2.imread(str(work / "orig" / n)), cv2.imread(str(work / "ours" / n))),
               ssim(cv2.imread(str(work / "orig" / n)), cv2.imread(str(work / "ours" / n)))) for n in names]
    attacks = sorted(p.name for p in (work / "attacked" / "dwtDct-default").iterdir())
    results = {}
    for tag in quality:
        method = tag.split("-")[0]
        for attack in attacks:
            exact, acc = 0, []
            for name in names:
                img = cv2.imread(str(work / "attacked" / tag / attack / name))
                bits = payload(name)
                scale = scales[(tag, name)]
                try:
                    dec = WatermarkDecoder("bits", 64)
                    got = [int(b) for b in dec.decode(img, method, scales=[0, scale, scale])]
                except RuntimeError:  # smaller than 256x256
                    got = [1 - b for b in bits]
                right = sum(int(a == b) for a, b in zip(got, bits))
                acc.append(right / 64)
                exact += int(right == 64)
            results[(tag, attack)] = (exact / len(names), float(np.mean(acc)))
    print(f"# invisible-watermark baseline: {len(names)} pictures")
    print(f"ours: PSNR {np.mean([q[0] for q in ours_q]):.2f} dB, SSIM {np.mean([q[1] for q in ours_q]):.4f}")
    for tag, (p, s) in quality.items():
        print(f"{tag}: PSNR {p:.2f} dB, SSIM {s:.4f}")
    tags = list(quality)
    print("| attack | " + " | ".join(f"{t} exact (bit acc.)" for t in tags) + " |")
    print("|---|" + "---|" * len(tags))
    for attack in attacks:
        cells = [f"{100 * results[(t, attack)][0]:.1f}% ({100 * results[(t, attack)][1]:.1f}%)" for t in tags]
        print(f"| {attack} | " + " | ".join(cells) + " |")
    (work / "baseline.json").write_text(json.dumps(
        {f"{t}|{a}": v for (t, a), v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
