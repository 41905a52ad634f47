//! Content credentials for media files through the c2pa crate: JPEG, PNG, WebP, MP4 and
//! WAV are signed (manifest embedded, no thumbnail); PDF is read-only in c2pa 0.90.
//!
//! China's implicit label goes into the file's XMP as `TC260:AIGC` (a JSON string, the
//! TC260 namespace) for JPEG (APP1), PNG (`iTXt XML:com.adobe.xmp`), WAV (`_PMX` chunk)
//! and MP4 (a top-level XMP `uuid` box appended after the media data, so no sample
//! offset moves), when the file has no XMP of its own yet. WebP would need its simple
//! format rewritten to the extended one, so there (and in files that already carry
//! XMP) the label is in the `org.tracemark.aigc` assertion only, as it is in every
//! manifest anyway. The XMP is added before signing, so the hard binding covers it.
//!
//! A file that already carries a manifest gets a new one with the earlier manifest as
//! its parent ingredient (`c2pa.opened`), and the generation recorded as `c2pa.edited`.

use std::{
    io::Cursor,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use crate::{CredentialError, CredentialSpec, SignOptions, SigningKey, manifest};

/// The XMP namespace of the TC260 implicit label.
pub const TC260_NAMESPACE: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";

/// The media formats this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaFormat {
    Jpeg,
    Png,
    Webp,
    Mp4,
    Wav,
    /// Read-only.
    Pdf,
}

impl MediaFormat {
    pub fn mime(self) -> &'static str {
        match self {
            MediaFormat::Jpeg => "image/jpeg",
            MediaFormat::Png => "image/png",
            MediaFormat::Webp => "image/webp",
            MediaFormat::Mp4 => "video/mp4",
            MediaFormat::Wav => "audio/wav",
            MediaFormat::Pdf => "application/pdf",
        }
    }

    pub fn can_sign(self) -> bool {
        self != MediaFormat::Pdf
    }

    /// From the first bytes of the file.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        let at = |o: usize, s: &[u8]| bytes.get(o..o + s.len()) == Some(s);
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            Some(MediaFormat::Jpeg)
        } else if at(0, b"\x89PNG\r\n\x1a\n") {
            Some(MediaFormat::Png)
        } else if at(0, b"RIFF") && at(8, b"WEBP") {
            Some(MediaFormat::Webp)
        } else if at(0, b"RIFF") && at(8, b"WAVE") {
            Some(MediaFormat::Wav)
        } else if at(4, b"ftyp") {
            Some(MediaFormat::Mp4)
        } else if at(0, b"%PDF-") {
            Some(MediaFormat::Pdf)
        } else {
            None
        }
    }

    /// From a file name's extension.
    pub fn from_extension(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" => MediaFormat::Jpeg,
            "png" => MediaFormat::Png,
            "webp" => MediaFormat::Webp,
            "mp4" | "m4v" | "m4a" | "mov" => MediaFormat::Mp4,
            "wav" => MediaFormat::Wav,
            "pdf" => MediaFormat::Pdf,
            _ => return None,
        })
    }

    /// The content decides; the extension is the fallback (a truncated file may have
    /// lost its magic).
    pub fn detect(path: &Path, bytes: &[u8]) -> Option<Self> {
        Self::sniff(bytes).or_else(|| Self::from_extension(path))
    }
}

/// What signing a media file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedMedia {
    pub format: MediaFormat,
    pub output: PathBuf,
    /// The manifest store's size in bytes.
    pub manifest_len: usize,
    /// Whether the AIGC label was also written as XMP `TC260:AIGC`.
    pub aigc_xmp: bool,
    /// Whether an earlier manifest was kept as the parent ingredient.
    pub parent_manifest: bool,
}

/// Signs the media file at `input` into `output` (which must be another path). The
/// output is written to a temporary file beside it and renamed into place, so neither
/// the input nor an existing output is ever left half-written.
pub fn sign_media_file(
    input: &Path,
    output: &Path,
    key: &SigningKey,
    spec: &CredentialSpec,
    options: &SignOptions,
) -> Result<SignedMedia, CredentialError> {
    if same_file(input, output) {
        return Err(CredentialError::OutputIsInput(output.to_owned()));
    }
    let bytes = std::fs::read(input).map_err(|e| CredentialError::io(input, e))?;
    let format = MediaFormat::detect(input, &bytes)
        .ok_or_else(|| CredentialError::UnsupportedFormat(input.display().to_string()))?;
    let signed = sign_media(&bytes, format, key, spec, options)?;
    crate::write_atomically(output, &signed.bytes)?;
    Ok(SignedMedia {
        format,
        output: output.to_owned(),
        manifest_len: signed.manifest_len,
        aigc_xmp: signed.aigc_xmp,
        parent_manifest: signed.parent_manifest,
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A signed media file in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMediaBytes {
    pub bytes: Vec<u8>,
    /// The manifest store as embedded (its hash is what a generation record names).
    pub manifest: Vec<u8>,
    pub manifest_len: usize,
    pub aigc_xmp: bool,
    pub parent_manifest: bool,
}

/// Signs media held in memory.
pub fn sign_media(
    bytes: &[u8],
    format: MediaFormat,
    key: &SigningKey,
    spec: &CredentialSpec,
    options: &SignOptions,
) -> Result<SignedMediaBytes, CredentialError> {
    if !format.can_sign() {
        return Err(CredentialError::ReadOnlyFormat(format.mime().into()));
    }
    if let Err(e) = crate::jumbf_guard::check_media(format.mime(), bytes) {
        return Err(CredentialError::Input(format!(
            "{}: its manifest store was not read: {e}",
            format.mime()
        )));
    }
    let parent_manifest = has_manifest(bytes, format);
    let xmp = xmp_packet(spec);
    let with_xmp = if parent_manifest {
        None
    } else {
        add_xmp(bytes, format, &xmp)
    };
    let aigc_xmp = with_xmp.is_some();
    let source_bytes = with_xmp.as_deref().unwrap_or(bytes);
    let context = manifest::context_with(manifest::base_settings())?;
    let mut builder = spec.builder(context, parent_manifest)?;
    let signer = key.c2pa_signer(options);
    let mut source = Cursor::new(source_bytes);
    let mut dest = Cursor::new(Vec::with_capacity(source_bytes.len() + 8192));
    let manifest = builder
        .sign(&signer, format.mime(), &mut source, &mut dest)
        .map_err(|e| match e {
            c2pa::Error::UnsupportedType => {
                CredentialError::UnsupportedFormat(format.mime().into())
            }
            other => signer
                .take_time_stamp_error()
                .unwrap_or_else(|| CredentialError::Input(format!("{}: {other}", format.mime()))),
        })?;
    Ok(SignedMediaBytes {
        bytes: dest.into_inner(),
        manifest_len: manifest.len(),
        manifest,
        aigc_xmp,
        parent_manifest,
    })
}

/// Whether the media already carries a C2PA manifest store (valid or not).
fn has_manifest(bytes: &[u8], format: MediaFormat) -> bool {
    let Ok(context) = manifest::context_with(serde_json::json!({
        "verify": { "verify_after_reading": false, "ocsp_fetch": false, "remote_manifest_fetch": false }
    })) else {
        return false;
    };
    c2pa::Reader::from_context(context)
        .with_stream(format.mime(), Cursor::new(bytes))
        .is_ok_and(|r| r.active_manifest().is_some())
}

/// The XMP packet with the TC260 label.
pub fn xmp_packet(spec: &CredentialSpec) -> String {
    let label = serde_json::to_string(&spec.aigc_label()).expect("plain struct");
    let escaped = label
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
<rdf:Description rdf:about=\"\" xmlns:TC260=\"{TC260_NAMESPACE}\" TC260:AIGC=\"{escaped}\"/>\
</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    )
}

/// The media with `xmp` added, or `None` when the format or the file does not allow it
/// here (WebP, a file that already has XMP, a structure this code does not follow).
pub fn add_xmp(bytes: &[u8], format: MediaFormat, xmp: &str) -> Option<Vec<u8>> {
    match format {
        MediaFormat::Jpeg => jpeg_add_xmp(bytes, xmp),
        MediaFormat::Png => png_add_xmp(bytes, xmp),
        MediaFormat::Wav => wav_add_xmp(bytes, xmp),
        MediaFormat::Mp4 => mp4_add_xmp(bytes, xmp),
        MediaFormat::Webp | MediaFormat::Pdf => None,
    }
}

const JPEG_XMP_HEADER: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

fn jpeg_add_xmp(bytes: &[u8], xmp: &str) -> Option<Vec<u8>> {
    if bytes.get(..2) != Some(&[0xFF, 0xD8]) {
        return None;
    }
    // Walk the segments before the image data: refuse if XMP is there, and insert after
    // the leading APP0 (JFIF) segment when there is one.
    let mut pos = 2;
    let mut insert_at = 2;
    loop {
        let marker = *bytes.get(pos + 1)?;
        if bytes[pos] != 0xFF || marker == 0xDA || marker == 0xD9 {
            break;
        }
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(pos + 2)?,
            *bytes.get(pos + 3)?,
        ]));
        let body = bytes.get(pos + 4..pos + 2 + len)?;
        if marker == 0xE1 && body.starts_with(JPEG_XMP_HEADER) {
            return None;
        }
        if marker == 0xE0 && insert_at == pos {
            insert_at = pos + 2 + len;
        }
        pos += 2 + len;
    }
    let seg_len = 2 + JPEG_XMP_HEADER.len() + xmp.len();
    let seg_len = u16::try_from(seg_len).ok()?;
    let mut out = Vec::with_capacity(bytes.len() + usize::from(seg_len) + 2);
    out.extend_from_slice(&bytes[..insert_at]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&seg_len.to_be_bytes());
    out.extend_from_slice(JPEG_XMP_HEADER);
    out.extend_from_slice(xmp.as_bytes());
    out.extend_from_slice(&bytes[insert_at..]);
    Some(out)
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_add_xmp(bytes: &[u8], xmp: &str) -> Option<Vec<u8>> {
    const KEYWORD: &[u8] = b"XML:com.adobe.xmp";
    let mut pos = 8;
    let mut after_ihdr = None;
    while pos + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().ok()?) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let data = bytes.get(pos + 8..pos + 8 + len)?;
        if kind == b"iTXt" && data.starts_with(KEYWORD) {
            return None;
        }
        let end = pos + 12 + len;
        if kind == b"IHDR" {
            after_ihdr = Some(end);
        }
        if kind == b"IEND" {
            break;
        }
        pos = end;
    }
    let at = after_ihdr?;
    if at > bytes.len() {
        return None;
    }
    let mut data = Vec::with_capacity(KEYWORD.len() + 5 + xmp.len());
    data.extend_from_slice(KEYWORD);
    data.extend_from_slice(&[0, 0, 0, 0, 0]); // NUL, uncompressed, method 0, no language, no translation
    data.extend_from_slice(xmp.as_bytes());
    let mut chunk = Vec::with_capacity(data.len() + 12);
    chunk.extend_from_slice(&u32::try_from(data.len()).ok()?.to_be_bytes());
    chunk.extend_from_slice(b"iTXt");
    chunk.extend_from_slice(&data);
    chunk.extend_from_slice(&crc32(&chunk[4..]).to_be_bytes());
    let mut out = Vec::with_capacity(bytes.len() + chunk.len());
    out.extend_from_slice(&bytes[..at]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&bytes[at..]);
    Some(out)
}

fn wav_add_xmp(bytes: &[u8], xmp: &str) -> Option<Vec<u8>> {
    if bytes.get(..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return None;
    }
    let riff_len = u32::from_le_bytes(bytes[4..8].try_into().ok()?) as usize;
    if riff_len + 8 != bytes.len() {
        return None;
    }
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().ok()?) as usize;
        if id == b"_PMX" {
            return None;
        }
        pos = pos.checked_add(8 + len + (len & 1))?;
    }
    let mut out = bytes.to_vec();
    out.extend_from_slice(b"_PMX");
    out.extend_from_slice(&u32::try_from(xmp.len()).ok()?.to_le_bytes());
    out.extend_from_slice(xmp.as_bytes());
    if xmp.len() % 2 == 1 {
        out.push(0);
    }
    let new_len = u32::try_from(out.len() - 8).ok()?;
    out[4..8].copy_from_slice(&new_len.to_le_bytes());
    Some(out)
}

const XMP_UUID: [u8; 16] = [
    0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF, 0xAC,
];

fn mp4_add_xmp(bytes: &[u8], xmp: &str) -> Option<Vec<u8>> {
    // Walk the top-level boxes: they must tile the file exactly, and none may be XMP.
    let mut pos = 0usize;
    while pos < bytes.len() {
        let size = u32::from_be_bytes(bytes.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let kind = bytes.get(pos + 4..pos + 8)?;
        let size = match size {
            0 => bytes.len() - pos,
            1 => usize::try_from(u64::from_be_bytes(
                bytes.get(pos + 8..pos + 16)?.try_into().ok()?,
            ))
            .ok()?,
            n => n,
        };
        if size < 8 {
            return None;
        }
        if kind == b"uuid" && bytes.get(pos + 8..pos + 24) == Some(&XMP_UUID[..]) {
            return None;
        }
        if kind == b"moof" {
            return None; // fragmented: leave it to the assertion
        }
        pos = pos.checked_add(size)?;
    }
    if pos != bytes.len() {
        return None;
    }
    let size = u32::try_from(8 + 16 + xmp.len()).ok()?;
    let mut out = bytes.to_vec();
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(b"uuid");
    out.extend_from_slice(&XMP_UUID);
    out.extend_from_slice(xmp.as_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn sniffs_each_format() {
        assert_eq!(
            MediaFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(MediaFormat::Jpeg)
        );
        assert_eq!(
            MediaFormat::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(MediaFormat::Png)
        );
        assert_eq!(
            MediaFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(MediaFormat::Webp)
        );
        assert_eq!(
            MediaFormat::sniff(b"RIFF\0\0\0\0WAVEfmt "),
            Some(MediaFormat::Wav)
        );
        assert_eq!(
            MediaFormat::sniff(b"\0\0\0\x18ftypisom"),
            Some(MediaFormat::Mp4)
        );
        assert_eq!(MediaFormat::sniff(b"%PDF-1.7"), Some(MediaFormat::Pdf));
        assert_eq!(MediaFormat::sniff(b"hello"), None);
        assert_eq!(MediaFormat::sniff(b""), None);
    }

    #[test]
    fn xmp_insertion_refuses_truncated_structures() {
        let xmp = "<x/>";
        assert!(jpeg_add_xmp(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00], xmp).is_none());
        assert!(png_add_xmp(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", xmp).is_none());
        assert!(wav_add_xmp(b"RIFF\x04\0\0\0WAVE", xmp).is_some());
        assert!(wav_add_xmp(b"RIFF\xff\0\0\0WAVE", xmp).is_none());
        assert!(mp4_add_xmp(b"\0\0\0\x18ftypisom", xmp).is_none());
    }
}
