//! Every parser of outside input returns an error, never panics, on arbitrary bytes and
//! on mutations of valid input.

use proptest::prelude::*;
use tracemark_ledger::{
    Checkpoint, GenerationRecord, Note, Receipt, SignedCheckpoint, Tile, merkle::Hash,
};

const NOTE: &str = "log.example/tracemark\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\u{2014} log.example/tracemark x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn receipt_text() -> String {
    format!(
        "c2sp.org/tlog-proof@v1\nextra e30=\nindex 3\n{}\n{}\n\n{NOTE}",
        Hash([1; 32]).to_base64(),
        Hash([2; 32]).to_base64()
    )
}

#[test]
fn the_fixtures_parse() {
    Note::parse(NOTE.as_bytes()).unwrap();
    SignedCheckpoint::parse(NOTE.as_bytes()).unwrap();
    let r = Receipt::parse(receipt_text().as_bytes()).unwrap();
    assert_eq!((r.index, r.proof.len()), (3, 2));
    assert_eq!(r.extra.as_deref(), Some(b"{}".as_slice()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Note::parse(&bytes);
        let _ = SignedCheckpoint::parse(&bytes);
        let _ = Receipt::parse(&bytes);
        let _ = GenerationRecord::from_json(&bytes);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse_body(text);
            let _ = Tile::parse(text);
        }
    }

    #[test]
    fn mutated_receipts_never_panic(
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = receipt_text().into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let _ = Receipt::parse(&bytes);
        let end = cut.index(bytes.len());
        let _ = Receipt::parse(&bytes[..end]);
    }

    #[test]
    fn tile_paths_round_trip(level in 0u8..64, index in any::<u64>(), width in 0u8..=255) {
        let tile = Tile {
            kind: tracemark_ledger::TileKind::Hash(level),
            index,
            partial: (width > 0).then_some(width),
        };
        prop_assert_eq!(Tile::parse(&tile.path()).unwrap(), tile);
    }
}
