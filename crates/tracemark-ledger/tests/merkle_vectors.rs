//! RFC 6962 test vectors (the Certificate Transparency reference leaves, as published by
//! transparency-dev/merkle `testonly`), and the `ct-merkle` crate as an independent oracle.

use proptest::prelude::*;
use tracemark_ledger::merkle::{
    Hash, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root_hash, verify_consistency,
    verify_inclusion,
};

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn h(hex: &str) -> Hash {
    Hash::from_slice(&hex::decode(hex).unwrap()).unwrap()
}

fn reference_tree() -> MemoryTree {
    let mut t = MemoryTree::new();
    for leaf in LEAVES {
        t.push(leaf_hash(&hex::decode(leaf).unwrap()));
    }
    t
}

#[test]
fn roots_match_the_reference_for_every_size() {
    let t = reference_tree();
    for (size, want) in ROOTS.iter().enumerate() {
        assert_eq!(
            root_hash(&t, size as u64).unwrap().to_hex(),
            *want,
            "size {size}"
        );
    }
}

#[test]
fn inclusion_proofs_match_the_reference() {
    let t = reference_tree();
    let cases: [(u64, [&str; 3]); 2] = [
        (
            0,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
    ];
    let root = h(ROOTS[8]);
    for (index, want) in cases {
        let want: Vec<Hash> = want.iter().map(|x| h(x)).collect();
        assert_eq!(inclusion_proof(&t, index, 8).unwrap(), want);
        let leaf = leaf_hash(&hex::decode(LEAVES[index as usize]).unwrap());
        verify_inclusion(&leaf, index, 8, &want, &root).unwrap();
    }
}

#[test]
fn consistency_proofs_match_the_reference() {
    let t = reference_tree();
    let cases: [(u64, u64, &[&str]); 3] = [
        (
            2,
            8,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old, new, want) in cases {
        let want: Vec<Hash> = want.iter().map(|x| h(x)).collect();
        assert_eq!(
            consistency_proof(&t, old, new).unwrap(),
            want,
            "{old}->{new}"
        );
        verify_consistency(
            old,
            new,
            &want,
            &h(ROOTS[old as usize]),
            &h(ROOTS[new as usize]),
        )
        .unwrap();
    }
}

type Oracle = ct_merkle::mem_backed_tree::MemoryBackedTree<sha2_oracle::Sha256, Vec<u8>>;

fn both(n: usize) -> (MemoryTree, Oracle) {
    let mut ours = MemoryTree::new();
    let mut oracle = Oracle::new();
    for i in 0..n {
        let data = (i as u64).to_be_bytes().to_vec();
        ours.push(leaf_hash(&data));
        oracle.push(data);
    }
    (ours, oracle)
}

fn flat(proof: &[Hash]) -> Vec<u8> {
    proof.iter().flat_map(|x| x.0).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn roots_and_inclusion_proofs_agree_with_ct_merkle(n in 1usize..600, pick in any::<u64>()) {
        let (ours, oracle) = both(n);
        let theirs_root = oracle.root();
        prop_assert_eq!(&ours.root().0[..], &theirs_root.as_bytes()[..]);
        let index = pick % n as u64;
        let proof = inclusion_proof(&ours, index, n as u64).unwrap();
        let theirs = oracle.prove_inclusion(index as usize);
        prop_assert_eq!(flat(&proof), theirs.as_bytes().to_vec());
    }

    #[test]
    fn consistency_proofs_agree_with_ct_merkle(n in 2usize..600, pick in any::<u64>()) {
        let (ours, oracle) = both(n);
        let old = 1 + pick % (n as u64 - 1);
        let proof = consistency_proof(&ours, old, n as u64).unwrap();
        let theirs = oracle.prove_consistency(n - old as usize);
        prop_assert_eq!(flat(&proof), theirs.as_bytes().to_vec());
        let old_root = root_hash(&ours, old).unwrap();
        prop_assert!(verify_consistency(old, n as u64, &proof, &old_root, &ours.root()).is_ok());
    }
}
