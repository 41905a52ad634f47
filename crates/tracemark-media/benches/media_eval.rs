//! The media marks' evaluation: every figure of the crate's README comes from here.
//! Run in release (`cargo bench` builds with the bench profile):
//!
//! ```text
//! cargo bench -p tracemark-media --bench media_eval -- image  [--natural DIR] [--synthetic N] [--margin M --cap D --passes P] [--export DIR]
//! cargo bench -p tracemark-media --bench media_eval -- fpr    [--natural DIR] [--keys K] [--images N]
//! cargo bench -p tracemark-media --bench media_eval -- copy   [--natural DIR]
//! cargo bench -p tracemark-media --bench media_eval -- audio  [--speech DIR] [--mp3 DIR]
//! cargo bench -p tracemark-media --bench media_eval -- audio-fpr [--speech DIR] [--keys K]
//! ```

use std::{collections::BTreeMap, path::PathBuf, time::Instant};

use tracemark_media::{
    MediaKey, MediaScheme, Picture,
    attack::{ImageAttack, psnr, ssim},
    image_mark::{EmbedOptions, ImageDetectOptions, ImageMarker, analyse},
    imageio, synth,
};

struct Args {
    command: String,
    flags: BTreeMap<String, String>,
}

impl Args {
    fn parse() -> Self {
        let mut it = std::env::args().skip(1).filter(|a| a != "--bench");
        let command = it.next().unwrap_or_else(|| "image".into());
        let mut flags = BTreeMap::new();
        while let Some(flag) = it.next() {
            if let Some(name) = flag.strip_prefix("--") {
                flags.insert(name.to_owned(), it.next().unwrap_or_default());
            }
        }
        Self { command, flags }
    }

    fn get<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        self.flags
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.flags.get(name).map(PathBuf::from)
    }
}

/// Natural pictures: every PNG/JPEG in `dir`, cut into `side`-pixel tiles (at most
/// `per_image` of them, spread over the picture), 8-bit RGB.
fn natural_tiles(dir: Option<PathBuf>, side: u32, per_image: usize) -> Vec<(String, Picture)> {
    let Some(dir) = dir else { return Vec::new() };
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("natural image folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg")))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names {
        let Ok((pic, _)) = imageio::decode_image(&std::fs::read(&path).unwrap()) else {
            continue;
        };
        let pic = to_rgb(&pic);
        if pic.width() < side || pic.height() < side {
            continue;
        }
        let (nx, ny) = (pic.width() / side, pic.height() / side);
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut taken = 0;
        'tiles: for ty in 0..ny {
            for tx in 0..nx {
                if taken == per_image {
                    break 'tiles;
                }
                out.push((
                    format!("{stem}-{tx}-{ty}"),
                    tile(&pic, tx * side, ty * side, side),
                ));
                taken += 1;
            }
        }
    }
    out
}

fn to_rgb(pic: &Picture) -> Picture {
    let c = pic.channels() as usize;
    let pixels = pic
        .pixels()
        .chunks_exact(c)
        .flat_map(|p| {
            if c >= 3 {
                [p[0], p[1], p[2]]
            } else {
                [p[0]; 3]
            }
        })
        .collect();
    Picture::new(pic.width(), pic.height(), 3, pixels).unwrap()
}

fn tile(pic: &Picture, x0: u32, y0: u32, side: u32) -> Picture {
    let mut pixels = Vec::with_capacity((side * side * 3) as usize);
    for y in y0..y0 + side {
        let start = ((y * pic.width() + x0) * 3) as usize;
        pixels.extend_from_slice(&pic.pixels()[start..start + side as usize * 3]);
    }
    Picture::new(side, side, 3, pixels).unwrap()
}

fn image_set(args: &Args, side: u32) -> Vec<(String, Picture)> {
    let synthetic = args.get("synthetic", 16usize);
    let mut set: Vec<(String, Picture)> = (0..synthetic as u64)
        .map(|s| {
            (
                format!("synthetic-{s}"),
                synth::picture(1000 + s, side, side),
            )
        })
        .collect();
    set.extend(natural_tiles(
        args.path("natural"),
        side,
        args.get("per-image", 2usize),
    ));
    set
}

fn key(i: u64) -> MediaKey {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&i.to_le_bytes());
    secret[8] = 0xA5;
    MediaKey::from_secret(MediaScheme::ImageDctV1, secret)
}

fn payload_of(i: u64) -> u64 {
    0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i + 1)
}

fn image(args: &Args) {
    let side = args.get("side", 512u32);
    let set = image_set(args, side);
    let opts = EmbedOptions {
        margin: args.get("margin", EmbedOptions::default().margin),
        cap: args.get("cap", EmbedOptions::default().cap),
        passes: args.get("passes", EmbedOptions::default().passes),
    };
    let fpr = args.get("fpr", 1e-3f64);
    let export = args.path("export");
    println!(
        "# image mark: {} pictures {side}x{side}, margin {} cap {} passes {}, level {fpr}",
        set.len(),
        opts.margin,
        opts.cap,
        opts.passes
    );
    let only: Option<Vec<String>> = args
        .flags
        .get("attacks")
        .map(|a| a.split(',').map(str::to_owned).collect());
    let attacks: Vec<ImageAttack> = ImageAttack::TABLE
        .into_iter()
        .filter(|a| only.as_ref().is_none_or(|o| o.contains(&a.name())))
        .collect();
    let mut detected = vec![0usize; attacks.len()];
    let mut recovered = vec![0usize; attacks.len()];
    let mut wrong = vec![0usize; attacks.len()];
    let (mut psnr_sum, mut ssim_sum, mut psnr_min) = (0.0, 0.0, f64::INFINITY);
    let (mut t_embed, mut t_detect, mut megapixels, mut detections) = (0.0, 0.0, 0.0, 0usize);
    for (i, (name, pic)) in set.iter().enumerate() {
        let marker = ImageMarker::new(&key(i as u64)).unwrap();
        let payload = payload_of(i as u64);
        let start = Instant::now();
        let marked = marker.embed_with(pic, payload, &opts).unwrap();
        t_embed += start.elapsed().as_secs_f64();
        megapixels += f64::from(pic.width() * pic.height()) / 1e6;
        let p = psnr(pic, &marked);
        psnr_sum += p;
        psnr_min = psnr_min.min(p);
        ssim_sum += ssim(pic, &marked);
        if let Some(dir) = &export {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(
                dir.join(format!("{name}.orig.png")),
                imageio::encode_png(pic).unwrap(),
            )
            .unwrap();
            std::fs::write(
                dir.join(format!("{name}.ours.png")),
                imageio::encode_png(&marked).unwrap(),
            )
            .unwrap();
        }
        for (a, attack) in attacks.iter().enumerate() {
            let attacked = attack.apply(&marked, i as u64).unwrap();
            let start = Instant::now();
            let d = marker
                .detect_with(&attacked, &ImageDetectOptions::new(fpr))
                .unwrap();
            t_detect += start.elapsed().as_secs_f64()
                / (f64::from(attacked.width() * attacked.height()) / 1e6);
            detections += 1;
            detected[a] += usize::from(d.verdict.detected);
            match d.payload {
                Some(p) if p.value() == payload => recovered[a] += 1,
                Some(_) => wrong[a] += 1,
                None => {
                    if args.flags.contains_key("verbose") {
                        println!(
                            "  miss {name} {}: p {:.2e} pilot {:.3} data {:.3} checked {}",
                            attack.name(),
                            d.verdict.p_value.value(),
                            d.pilot_agreement,
                            d.data_agreement,
                            d.payload_checked
                        );
                    }
                }
            }
        }
    }
    let n = set.len() as f64;
    println!(
        "PSNR mean {:.2} dB (min {:.2}), SSIM mean {:.4}",
        psnr_sum / n,
        psnr_min,
        ssim_sum / n
    );
    println!(
        "time: embed {:.3} s/MP, detect {:.3} s/MP (mean over all attacked pictures)",
        t_embed / megapixels,
        t_detect / detections as f64
    );
    println!("| attack | detected | payload exact | payload wrong |");
    println!("|---|---|---|---|");
    for (a, attack) in attacks.iter().enumerate() {
        println!(
            "| {} | {:.1}% | {:.1}% | {} |",
            attack.name(),
            100.0 * detected[a] as f64 / n,
            100.0 * recovered[a] as f64 / n,
            wrong[a]
        );
    }
}

fn fpr(args: &Args) {
    let keys = args.get("keys", 100u64);
    let images = args.get("images", 1000usize);
    let side = args.get("side", 256u32);
    let natural = natural_tiles(args.path("natural"), side, usize::MAX);
    let synthetic = images.saturating_sub(natural.len());
    println!(
        "# false positives: {keys} keys x {images} unmarked pictures ({} natural tiles, {synthetic} synthetic), {side}x{side}, full crop search",
        natural.len().min(images)
    );
    let markers: Vec<ImageMarker> = (0..keys)
        .map(|k| ImageMarker::new(&key(10_000 + k)).unwrap())
        .collect();
    let levels = [1e-1, 1e-2, 1e-3];
    let mut hits = [0u64; 3];
    let mut total = 0u64;
    let mut min_ln = 0.0f64;
    for i in 0..images {
        let pic = if i < natural.len() {
            natural[i].1.clone()
        } else {
            synth::picture(50_000 + i as u64, side, side)
        };
        let analysis = analyse(&pic, true).unwrap();
        for m in &markers {
            let ln_p = m.ln_p_value(&analysis);
            min_ln = min_ln.min(ln_p);
            for (h, level) in hits.iter_mut().zip(levels) {
                *h += u64::from(ln_p <= f64::ln(level));
            }
            total += 1;
        }
    }
    println!("tests: {total}, smallest p {:.3e}", min_ln.exp());
    println!("| level (claimed rate) | false positives | measured rate |");
    println!("|---|---|---|");
    for (h, level) in hits.iter().zip(levels) {
        println!("| {level:e} | {h} | {:.2e} |", *h as f64 / total as f64);
    }
}

fn main() {
    let args = Args::parse();
    match args.command.as_str() {
        "image" => image(&args),
        "fpr" => fpr(&args),
        other => eprintln!("unknown command {other}"),
    }
}
