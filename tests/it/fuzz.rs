//! The fuzz targets' checks on the stable toolchain: every seed of each target's corpus (`fuzz/corpus/<target>/`)
//! and a fixed number of seeded mutations of them go through the same functions the cargo-fuzz targets call
//! (`fuzz/checks.rs`). This is the short fuzz run of every `cargo test`, and so of CI; `FUZZ_MUTATIONS=N`
//! runs N mutations per target instead of the default, and cargo-fuzz (README, "Fuzzing") searches for longer.

use std::path::{Path, PathBuf};

#[path = "../../fuzz/checks.rs"]
mod checks;

/// Mutations per target in a plain `cargo test`: a few seconds in all at the tests' optimisation level.
const DEFAULT_MUTATIONS: usize = 1_000;

/// Mutations applied to one seed before it is checked, at most.
const MAX_EDITS_PER_INPUT: u64 = 4;

/// Fragments that reach the parsers' and validators' corners: bounds, specials, names that are paths,
/// table headers, and the JSON manifest's syntax.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "1e309",
    "-0.0",
    "nan",
    "inf",
    "4294967296",
    "18446744073709551616",
    "1e-320",
    "\"..\"",
    "\".\"",
    "\"/etc/passwd\"",
    "\"\"",
    "true",
    "[",
    "]",
    "[[grid]]",
    "[[latin_hypercube.ranges]]",
    "=",
    ",",
    "{",
    "}",
    "\"",
    "\\u0000",
    "\u{1b}]0;x\u{7}",
    "null",
    "[]",
    "1000000",
    "paths",
    "cell",
    "values = [",
    "\n",
];

fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A small seeded generator (SplitMix64), so every run mutates the same way.
struct Mutator(u64);

impl Mutator {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One seed with a few edits: bytes flipped, inserted or removed, a token inserted, a number's digits
    /// replaced, a span duplicated or deleted, or a span of another seed spliced in.
    fn mutate(&mut self, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
        let mut out = input.to_vec();
        for _ in 0..=self.next() % MAX_EDITS_PER_INPUT {
            let at = self.below(out.len() + 1);
            match self.next() % 7 {
                0 if !out.is_empty() => {
                    let i = at.min(out.len() - 1);
                    out[i] ^= 1 << (self.next() % 8);
                }
                1 => out.insert(at, self.next() as u8),
                2 if !out.is_empty() => {
                    let end = (at + 1 + self.below(16)).min(out.len());
                    out.drain(at.min(out.len() - 1)..end);
                }
                3 | 4 => {
                    let token = TOKENS[self.below(TOKENS.len())];
                    // Tokens replace a run of digits when one is here, so numbers change in place.
                    let end = out[at..].iter().take_while(|b| b.is_ascii_digit()).count() + at;
                    out.splice(at..end, token.bytes());
                }
                5 if !out.is_empty() => {
                    let start = at.min(out.len() - 1);
                    let end = (start + 1 + self.below(64)).min(out.len());
                    let span = out[start..end].to_vec();
                    let to = self.below(out.len() + 1);
                    out.splice(to..to, span);
                }
                _ => {
                    let other = &corpus[self.below(corpus.len())];
                    if !other.is_empty() {
                        let start = self.below(other.len());
                        let end = (start + 1 + self.below(256)).min(other.len());
                        out.splice(at..at, other[start..end].iter().copied());
                    }
                }
            }
        }
        out
    }
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = project_dir().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "{} holds no seed", dir.display());
    seeds
}

fn n_mutations() -> usize {
    std::env::var("FUZZ_MUTATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_MUTATIONS)
}

/// Runs `check` on every seed of `target`'s corpus, then on seeded mutations; a panic names the input's file
/// or the mutation that caused it, written under cargo's temporary directory for tests
/// (`target/tmp/fuzz-failures/`) so it can be replayed and committed as a seed once fixed.
fn fuzz(target: &str, check: fn(&[u8], &Path)) {
    let seeds = corpus(target);
    let project = project_dir();
    let run = |input: &[u8], what: &str| {
        let outcome = std::panic::catch_unwind(|| check(input, &project));
        if outcome.is_err() {
            let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("fuzz-failures")
                .join(target);
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(what.replace(['/', ' '], "_"));
            std::fs::write(&file, input).unwrap();
            panic!(
                "fuzz target {target} failed on {what}; input written to {}",
                file.display()
            );
        }
    };
    for (idx, seed) in seeds.iter().enumerate() {
        run(seed, &format!("seed {idx}"));
    }
    let mut mutator = Mutator(
        target
            .bytes()
            .fold(0, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
    );
    for idx in 0..n_mutations() {
        let seed = &seeds[idx % seeds.len()];
        let input = mutator.mutate(seed, &seeds);
        run(&input, &format!("mutation {idx}"));
    }
}

#[test]
fn fuzz_scenario_corpus_and_mutations_are_accepted_or_refused_with_located_problems() {
    fuzz("scenario", checks::scenario);
}

#[test]
fn fuzz_sweep_file_corpus_and_mutations_are_accepted_or_refused_with_located_problems() {
    fuzz("sweep_file", checks::sweep_file);
}

#[test]
fn fuzz_sweep_design_corpus_and_mutations_build_valid_cells_or_are_refused() {
    fuzz("sweep_design", checks::sweep_design);
}

#[test]
fn fuzz_merge_manifest_corpus_and_mutations_are_used_only_when_every_field_agrees() {
    fuzz("merge_manifest", checks::merge_manifest);
}

#[test]
fn the_mutator_changes_its_input_and_repeats_itself() {
    let seed = b"[sweep]\nname = \"a\"\npaths = 10\n".to_vec();
    let corpus = vec![seed.clone()];
    let first: Vec<Vec<u8>> = {
        let mut m = Mutator(7);
        (0..50).map(|_| m.mutate(&seed, &corpus)).collect()
    };
    let again: Vec<Vec<u8>> = {
        let mut m = Mutator(7);
        (0..50).map(|_| m.mutate(&seed, &corpus)).collect()
    };
    assert_eq!(first, again, "the same seed mutates the same way");
    assert!(
        first.iter().filter(|m| **m != seed).count() >= 45,
        "mutations change the input"
    );
}

#[test]
fn the_merge_manifest_seeds_of_a_real_split_are_accepted_so_mutations_start_from_valid_manifests() {
    let dir = project_dir().join("fuzz/corpus/merge_manifest");
    for (file, shard_idx, n_shards) in [
        ("two_shards_0.json", 0, 2),
        ("two_shards_1.json", 1, 2),
        ("three_shards_1_monthly.json", 1, 3),
        ("with_failed_path.json", 1, 2),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let spec = hashcycle::sweep::shard::ShardSpec { shard_idx, n_shards };
        let checked = hashcycle::sweep::merge::check_manifest_text(&text, spec);
        assert!(checked.is_ok(), "{file}: {:?}", checked.err());
        // Read as another shard of the split, the same manifest is refused by its fields.
        let other = hashcycle::sweep::shard::ShardSpec {
            shard_idx: (shard_idx + 1) % n_shards,
            n_shards,
        };
        let problems = hashcycle::sweep::merge::check_manifest_text(&text, other).unwrap_err();
        assert!(
            problems.iter().any(|p| p.contains("first_work_path")),
            "{file}: {problems:?}"
        );
    }
}
