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
    attack::{AudioAttack, ImageAttack, psnr, snr, ssim},
    audio::Audio,
    audio_mark::{self, AudioEmbedOptions, AudioMarker},
    audioio::{self, WavFormat},
    dsp::Plane,
    image_mark::{EmbedOptions, ImageDetectOptions, ImageMarker, analyse},
    imageio, sd, synth,
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
        "# false positives: {keys} keys x {images} pictures ({} natural tiles, {synthetic} synthetic; one in ten marked with another key), {side}x{side}, full crop search",
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
        // One picture in ten carries the mark of a key outside the tested ones: the
        // wrong-key case.
        let pic = if i % 10 == 9 {
            ImageMarker::new(&key(900_000 + i as u64))
                .unwrap()
                .embed(&pic, payload_of(i as u64))
                .unwrap()
        } else {
            pic
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

/// The copy attack: the mark estimated from a marked picture and added to another.
fn copy(args: &Args) {
    let side = args.get("side", 512u32);
    let set = image_set(args, side);
    let fpr = args.get("fpr", 1e-3f64);
    let n = set.len();
    println!("# copy attack: {n} pairs {side}x{side}, level {fpr}");
    let estimates: [(&str, Option<f32>); 3] = [
        ("oracle (marked - original)", None),
        ("blind, marked - blur(1.0)", Some(1.0)),
        ("blind, marked - blur(3.0)", Some(3.0)),
    ];
    println!(
        "| estimate of the mark | added to another picture: detected | payload | PSNR of the forgery |"
    );
    println!("|---|---|---|---|");
    for (label, sigma) in estimates {
        let (mut detected, mut payloads, mut quality) = (0, 0, 0.0);
        for i in 0..n {
            let (_, source) = &set[i];
            let (_, target) = &set[(i + 1) % n];
            let marker = ImageMarker::new(&key(i as u64)).unwrap();
            let payload = payload_of(i as u64);
            let marked = marker.embed(source, payload).unwrap();
            let mark = match sigma {
                None => difference(&marked, source),
                Some(s) => difference(&marked, &blur(&marked, s)),
            };
            let forged = target.add_to_colours(&mark);
            quality += psnr(target, &forged);
            let d = marker.detect(&forged, fpr).unwrap();
            detected += usize::from(d.verdict.detected);
            payloads += usize::from(d.payload.map(|p| p.value()) == Some(payload));
        }
        println!(
            "| {label} | {:.1}% | {:.1}% | {:.1} dB |",
            100.0 * detected as f64 / n as f64,
            100.0 * payloads as f64 / n as f64,
            quality / n as f64
        );
    }
}

/// `a − b` on luma.
fn difference(a: &Picture, b: &Picture) -> Plane {
    let (la, lb) = (a.luma(), b.luma());
    Plane {
        width: la.width,
        height: la.height,
        data: la.data.iter().zip(&lb.data).map(|(x, y)| x - y).collect(),
    }
}

/// Gaussian blur of every channel.
fn blur(p: &Picture, sigma: f32) -> Picture {
    let r = (3.0 * sigma).ceil() as i64;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    let planes: Vec<Plane> = (0..p.channels() as usize)
        .map(|c| {
            let src = p.channel(c);
            let (w, h) = (src.width as i64, src.height as i64);
            let pass = |src: &Plane, horizontal: bool| {
                let mut out = Plane::new(src.width, src.height);
                for y in 0..h {
                    for x in 0..w {
                        let v: f32 = k
                            .iter()
                            .enumerate()
                            .map(|(j, kv)| {
                                let o = j as i64 - r;
                                let (xx, yy) = if horizontal {
                                    ((x + o).clamp(0, w - 1), y)
                                } else {
                                    (x, (y + o).clamp(0, h - 1))
                                };
                                kv * src.data[(yy * w + xx) as usize]
                            })
                            .sum();
                        out.data[(y * w + x) as usize] = v / sum;
                    }
                }
                out
            };
            pass(&pass(&src, true), false)
        })
        .collect();
    Picture::from_planes(&planes).unwrap()
}

/// Writes the image set, unmarked (`DIR/orig`) and marked as `image` marks it
/// (`DIR/ours`), for the baseline script.
fn export(args: &Args) {
    let side = args.get("side", 512u32);
    let dir = args.path("out").expect("--out DIR");
    for sub in ["orig", "ours"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (i, (name, pic)) in image_set(args, side).into_iter().enumerate() {
        let marked = ImageMarker::new(&key(i as u64))
            .unwrap()
            .embed(&pic, payload_of(i as u64))
            .unwrap();
        let write = |sub: &str, p: &Picture| {
            std::fs::write(
                dir.join(sub).join(format!("{name}.png")),
                imageio::encode_png(p).unwrap(),
            )
            .unwrap()
        };
        write("orig", &pic);
        write("ours", &marked);
    }
}

/// Applies every attack of the table to every PNG of `--in`, into `--out/ATTACK/`.
fn attack_dir(args: &Args) {
    let input = args.path("in").expect("--in DIR");
    let output = args.path("out").expect("--out DIR");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&input)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    names.sort();
    for (i, path) in names.iter().enumerate() {
        let (pic, _) = imageio::decode_image(&std::fs::read(path).unwrap()).unwrap();
        for attack in ImageAttack::TABLE {
            let dir = output.join(attack.name());
            std::fs::create_dir_all(&dir).unwrap();
            let attacked = attack.apply(&pic, i as u64).unwrap();
            std::fs::write(
                dir.join(path.file_name().unwrap()),
                imageio::encode_png(&attacked).unwrap(),
            )
            .unwrap();
        }
    }
}

/// The null of the SDXL reader: matching bits on unmarked pictures.
fn sd_null(args: &Args) {
    let mut pictures: Vec<Picture> = Vec::new();
    for side in [256u32, 512, 1024] {
        pictures.extend(
            natural_tiles(args.path("natural"), side, usize::MAX)
                .into_iter()
                .map(|(_, p)| p),
        );
    }
    let synthetic = args.get("synthetic", 1500u64);
    for s in 0..synthetic {
        let (w, h) = [(256, 256), (512, 384), (320, 480)][(s % 3) as usize];
        pictures.push(synth::picture(90_000 + s, w, h));
    }
    let mut histogram = [0u32; 49];
    let mut total = 0;
    for (i, p) in pictures.iter().enumerate() {
        for variant in [p.clone(), tracemark_media::attack::jpeg(p, 90).unwrap()] {
            if i % 2 == 1 && variant == *p {
                continue;
            }
            let r = sd::read_sdxl(&variant).unwrap();
            histogram[r.matching_bits as usize] += 1;
            total += 1;
        }
    }
    println!(
        "# SDXL reader null: {total} readings of {} unmarked pictures",
        pictures.len()
    );
    println!("pub const NULL_MATCHES: [u32; SDXL_BITS + 1] = {histogram:?};");
}

/// Audio clips: synthetic speech-like and music-like at 48 kHz, plus espeak-ng speech
/// when the command exists.
fn audio_set(args: &Args, seconds: f64) -> Vec<(String, Audio)> {
    let count = args.get("clips", 6u64);
    let mut set = Vec::new();
    for s in 0..count {
        let speech = synth::speechlike(s, 48_000, seconds);
        let music = synth::music(s, 48_000, seconds);
        set.push((
            format!("speechlike-{s}"),
            Audio::new(48_000, vec![speech]).unwrap(),
        ));
        set.push((
            format!("music-{s}"),
            Audio::new(48_000, vec![music.clone(), music]).unwrap(),
        ));
    }
    set.extend(espeak(args.get("speech", 4usize), seconds));
    set
}

const SENTENCES: [&str; 6] = [
    "The quick brown fox jumps over the lazy dog while the committee reviews the annual report on provenance.",
    "Attribution of generated content rests on evidence that survives compression, cropping and time.",
    "A watermark carries a short identifier; the transparency log keeps the record it points to.",
    "Please read the following numbers slowly: three, seventeen, forty two, one hundred and eight.",
    "Rain is expected in the northern districts tomorrow, with clearer skies arriving by the weekend.",
    "The court asked whether the output could be traced to the model that produced it, and by whom.",
];

fn espeak(count: usize, seconds: f64) -> Vec<(String, Audio)> {
    let mut out = Vec::new();
    for (i, voice) in ["en", "en-us", "de", "fr", "en+f3", "es"]
        .iter()
        .take(count)
        .enumerate()
    {
        let path = std::env::temp_dir().join(format!("tracemark-espeak-{i}.wav"));
        let text = SENTENCES
            .iter()
            .cycle()
            .skip(i)
            .take(4)
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let ok = std::process::Command::new("espeak-ng")
            .args(["-v", voice, "-s", "150", "-w"])
            .arg(&path)
            .arg(&text)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            break;
        }
        let (audio, _) = audioio::decode_wav(&std::fs::read(&path).unwrap()).unwrap();
        let audio = audio.resampled(48_000).unwrap();
        let keep = ((seconds * 48_000.0) as usize).min(audio.frames());
        out.push((
            format!("espeak-{voice}"),
            audio.map_channels(|c| c[..keep].to_vec()),
        ));
    }
    out
}

/// MP3 at `kbps` and back: `lameenc` (Python) encodes, `mpg123` decodes.
fn mp3(audio: &Audio, kbps: u32, python: &str) -> Option<Audio> {
    let dir = std::env::temp_dir();
    let (wav, mp3, back) = (
        dir.join("tm-mp3-in.wav"),
        dir.join("tm-mp3.mp3"),
        dir.join("tm-mp3-out.wav"),
    );
    std::fs::write(&wav, audioio::encode_wav(audio, WavFormat::PCM16).ok()?).ok()?;
    let script = format!(
        "import lameenc, wave\nw = wave.open({wav:?})\ne = lameenc.Encoder()\ne.set_bit_rate({kbps})\n\
         e.set_in_sample_rate(w.getframerate())\ne.set_channels(w.getnchannels())\ne.set_quality(2)\n\
         open({mp3:?}, 'wb').write(e.encode(w.readframes(w.getnframes())) + e.flush())\n"
    );
    let ok = std::process::Command::new(python)
        .args(["-c", &script])
        .status()
        .is_ok_and(|s| s.success())
        && std::process::Command::new("mpg123")
            .args(["-q", "-w"])
            .arg(&back)
            .arg(&mp3)
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    Some(audioio::decode_wav(&std::fs::read(&back).ok()?).ok()?.0)
}

fn audio_key(i: u64) -> MediaKey {
    let mut secret = [0u8; 32];
    secret[..8].copy_from_slice(&i.to_le_bytes());
    secret[8] = 0x5A;
    MediaKey::from_secret(MediaScheme::AudioStftV1, secret)
}

fn audio(args: &Args) {
    let seconds = args.get("seconds", 12.0f64);
    let set = audio_set(args, seconds);
    let fpr = args.get("fpr", 1e-3f64);
    let python = args.flags.get("python").cloned();
    let opts = AudioEmbedOptions {
        margin: args.get("margin", AudioEmbedOptions::default().margin),
        max_db: args.get("max-db", AudioEmbedOptions::default().max_db),
    };
    println!(
        "# audio mark: {} clips of {seconds} s at 48 kHz, margin {} max {} dB, level {fpr}",
        set.len(),
        opts.margin,
        opts.max_db
    );
    let mut names: Vec<String> = AudioAttack::TABLE.iter().map(|a| a.name()).collect();
    if python.is_some() {
        names.extend(["mp3-128kbps".into(), "mp3-64kbps".into()]);
    }
    let mut detected = vec![0usize; names.len()];
    let mut recovered = vec![0usize; names.len()];
    let mut wrong = vec![0usize; names.len()];
    let (mut snr_sum, mut snr_min, mut t_embed, mut t_detect, mut audio_s, mut detections) =
        (0.0, f64::INFINITY, 0.0, 0.0, 0.0, 0usize);
    for (i, (name, clip)) in set.iter().enumerate() {
        let marker = AudioMarker::new(&audio_key(i as u64)).unwrap();
        let payload = payload_of(i as u64);
        let start = Instant::now();
        let marked = marker.embed_with(clip, payload, &opts).unwrap();
        t_embed += start.elapsed().as_secs_f64();
        audio_s += clip.seconds();
        let q = snr(clip, &marked);
        snr_sum += q;
        snr_min = snr_min.min(q);
        let mut attacked: Vec<Option<Audio>> = AudioAttack::TABLE
            .iter()
            .map(|a| a.apply(&marked, i as u64).ok())
            .collect();
        if let Some(py) = &python {
            attacked.push(mp3(&marked, 128, py));
            attacked.push(mp3(&marked, 64, py));
        }
        for (a, x) in attacked.iter().enumerate() {
            let Some(x) = x else { continue };
            let start = Instant::now();
            let d = marker.detect(x, fpr).unwrap();
            t_detect += start.elapsed().as_secs_f64() / x.seconds();
            detections += 1;
            detected[a] += usize::from(d.verdict.detected);
            match d.payload {
                Some(p) if p.value() == payload => recovered[a] += 1,
                Some(_) => wrong[a] += 1,
                None if args.flags.contains_key("verbose") => println!(
                    "  miss {name} {}: p {:.2e} pilot {:.3} data {:.3}",
                    names[a],
                    d.verdict.p_value.value(),
                    d.pilot_agreement,
                    d.data_agreement
                ),
                None => {}
            }
        }
    }
    let n = set.len() as f64;
    println!("SNR mean {:.2} dB (min {:.2})", snr_sum / n, snr_min);
    println!(
        "time: embed {:.3} s per minute of audio, detect {:.3} s per minute (mean)",
        60.0 * t_embed / audio_s,
        60.0 * t_detect / detections as f64
    );
    println!("| attack | detected | payload exact | payload wrong |");
    println!("|---|---|---|---|");
    for (a, name) in names.iter().enumerate() {
        println!(
            "| {name} | {:.1}% | {:.1}% | {} |",
            100.0 * detected[a] as f64 / n,
            100.0 * recovered[a] as f64 / n,
            wrong[a]
        );
    }
}

fn audio_fpr(args: &Args) {
    let keys = args.get("keys", 100u64);
    let seconds = args.get("seconds", 10.0f64);
    let set = audio_set(args, seconds);
    println!(
        "# audio false positives: {keys} keys x {} unmarked clips of {seconds} s, full start search",
        set.len()
    );
    let markers: Vec<AudioMarker> = (0..keys)
        .map(|k| AudioMarker::new(&audio_key(10_000 + k)).unwrap())
        .collect();
    let levels = [1e-1, 1e-2, 1e-3];
    let mut hits = [0u64; 3];
    let mut total = 0u64;
    for (_, clip) in &set {
        let analysis = audio_mark::analyse(clip).unwrap();
        for m in &markers {
            let ln_p = m.ln_p_value(&analysis);
            for (h, level) in hits.iter_mut().zip(levels) {
                *h += u64::from(ln_p <= f64::ln(level));
            }
            total += 1;
        }
    }
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
        "copy" => copy(&args),
        "export" => export(&args),
        "attack-dir" => attack_dir(&args),
        "sd-null" => sd_null(&args),
        "audio" => audio(&args),
        "audio-fpr" => audio_fpr(&args),
        other => eprintln!("unknown command {other}"),
    }
}
