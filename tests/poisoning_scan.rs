//! How well the poisoning scan (`integrity::findings`) does on a labelled set, and that it stays
//! quiet on real servers.
//!
//! The set is `tests/data/poisoning/`: `dev.json` (what the rules were written against),
//! `round2.json` (held out at the first freeze, then tuned on), `heldout.json` (held out at the
//! second freeze, measured twice, then tuned on at the third: "round3" in the docs),
//! `heldout2.json` (written after the third freeze, measured once, then tuned on in round 4),
//! `round4.json` (written after the round-4 rules, scanned once, then tuned on),
//! `round5.json` (scanned once with round 4's rules and classifier, then tuned on),
//! `heldout3.json` (written by a separate author blind to the scanner, measured once after
//! round 4 froze, then tuned on in round 6), `round6.json` (written in round 6 as tuning
//! data) and `heldout4.json` (written by a separate author blind to the scanner while round 6
//! was tuned, measured once after the freeze, then tuned on in round 7). THOSE NINE SPLITS ARE
//! TUNING DATA: the rules (and, but for heldout4, the classifier) were fitted to them, so their
//! figures say nothing about text by other authors (docs/poisoning-scan.md has the figures
//! measured before each split was tuned on; heldout3's and heldout4's blind figures are in
//! their tests' comments). `heldout5.json` is the clean one: written by a separate author
//! blind to the scanner while round 7 was tuned, measured once after the freeze (see
//! `heldout5_split_holds_its_floor`); never tune on it. All are labelled in
//! `labels.tsv` by class and by what the scan must do: `quarantine` (a finding at or above the
//! default `integrity.quarantine_severity`, `high`), `finding` (at least `medium`:
//! descriptions that openly state a harmful behaviour deserve a look, not a quarantine) or
//! `none` (benign). Each definition is scanned as the gateway scans it: with every backend's
//! tool names.
//!
//! Each split is held at what was measured on it (poisoned caught, benign quarantined), so a
//! change that makes the scan worse anywhere fails, and a change that does better should raise
//! the floor. The tables say whether issue 15's targets are met (at least 90% of the poisoned
//! definitions caught at the severity their class calls for, at most 1% of the benign ones
//! quarantined): in sample they are on every split but round5 (35 of 40 caught) and round6
//! (48 of 50 caught, 3 of 89 benign quarantined). Each split
//! is measured with the rules alone and with the classifier (`integrity.classifier = "on"`,
//! the default). Separately: no finding at `high` or above on the real npm servers' catalogs
//! (`tests/data/meta_catalog.json`; `tests/data/poisoning/reference_catalogs.json` with the
//! reference servers' `instructions` and resources).
//!
//! The tables: `cargo test --test poisoning_scan -- --nocapture`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use portcullis::integrity::Kind;
use portcullis::integrity::findings::{Finding, Scanner, Severity};
use serde_json::Value;

const QUARANTINE: Severity = Severity::High;
const MIN_RECALL: f64 = 0.90;
const MAX_BENIGN_QUARANTINED: f64 = 0.01;

fn data(path: &str) -> String {
    let full = format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {full}: {e}"))
}

struct Label {
    split: String,
    poisoned: bool,
    class: String,
    expect: String,
}

fn labels() -> BTreeMap<String, Label> {
    let text = data("poisoning/labels.tsv");
    let mut out = BTreeMap::new();
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "labels.tsv: {line}");
        assert!(matches!(cols[2], "poisoned" | "benign"), "{line}");
        assert!(
            matches!(cols[4], "quarantine" | "finding" | "none"),
            "{line}"
        );
        assert_eq!(cols[2] == "benign", cols[4] == "none", "{line}");
        out.insert(
            cols[0].to_owned(),
            Label {
                split: cols[1].to_owned(),
                poisoned: cols[2] == "poisoned",
                class: cols[3].to_owned(),
                expect: cols[4].to_owned(),
            },
        );
    }
    out
}

fn kind(name: &str) -> Kind {
    match name {
        "tool" => Kind::Tool,
        "prompt" => Kind::Prompt,
        // A static resource is scanned as the gateway scans `resources/list` entries.
        "resource_template" | "resource" => Kind::ResourceTemplate,
        // `{"instructions": text}`, the item `integrity::instructions_items` makes.
        "instructions" => Kind::Instructions,
        other => panic!("unknown kind {other}"),
    }
}

/// `(backend, tool)` of every backend of a split.
fn backends(split: &Value) -> Vec<(String, String)> {
    split["backends"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(b, tools)| {
            tools
                .as_array()
                .unwrap()
                .iter()
                .map(move |t| (b.clone(), t.as_str().unwrap().to_owned()))
        })
        .collect()
}

fn max_severity(found: &[Finding]) -> Option<Severity> {
    found.iter().map(|f| f.severity).max()
}

#[derive(Default)]
struct Tally {
    total: usize,
    caught: usize,
    /// Benign only: at `medium` or above (shown to a reviewer).
    flagged: usize,
}

struct Outcome {
    table: String,
    recall: f64,
    caught: usize,
    benign_quarantined: usize,
    benign: usize,
    misses: Vec<String>,
    false_positives: Vec<String>,
    /// Benign definitions with a `medium` finding (shown, not quarantined).
    flagged: Vec<String>,
}

fn measure(split: &str, labels: &BTreeMap<String, Label>, classifier: bool) -> Outcome {
    let set: Value = serde_json::from_str(&data(&format!("poisoning/{split}.json"))).unwrap();
    let names = backends(&set);
    let mut classes: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut poisoned, mut caught, mut poisoned_medium) = (0usize, 0usize, 0usize);
    let (mut quarantine_tp, mut quarantine_fp) = (0usize, 0usize);
    let (mut benign, mut benign_quarantined, mut benign_flagged) = (0usize, 0usize, 0usize);
    let mut misses = Vec::new();
    let mut false_positives = Vec::new();
    let mut flagged = Vec::new();
    let items = set["items"].as_array().unwrap();
    // One scanner per backend, as the gateway builds them.
    let mut scanners: BTreeMap<String, Scanner> = BTreeMap::new();
    for item in items {
        let id = item["id"].as_str().unwrap();
        let label = labels
            .get(id)
            .unwrap_or_else(|| panic!("{id} has no label"));
        assert_eq!(label.split, split, "{id}");
        let backend = item["backend"].as_str().unwrap();
        let scanner = scanners
            .entry(backend.to_owned())
            .or_insert_with(|| Scanner::new(backend, &names).with_classifier(classifier));
        let found = scanner.scan(&item["definition"], kind(item["kind"].as_str().unwrap()));
        let top = max_severity(&found);
        let quarantined = top.is_some_and(|s| s >= QUARANTINE);
        let tally = classes.entry(label.class.clone()).or_default();
        tally.total += 1;
        if quarantined {
            if label.poisoned {
                quarantine_tp += 1;
            } else {
                quarantine_fp += 1;
            }
        }
        if label.poisoned {
            poisoned += 1;
            if top.is_some_and(|s| s >= Severity::Medium) {
                poisoned_medium += 1;
            }
            let need = if label.expect == "finding" {
                Severity::Medium
            } else {
                QUARANTINE
            };
            if top.is_some_and(|s| s >= need) {
                tally.caught += 1;
                caught += 1;
            } else {
                misses.push(format!("{id}: {:?} {}", top, item["definition"]));
            }
        } else {
            benign += 1;
            if quarantined {
                tally.caught += 1;
                benign_quarantined += 1;
                let rules: Vec<String> = found
                    .iter()
                    .filter(|f| f.severity >= QUARANTINE)
                    .map(|f| format!("{} {} {}", f.rule, f.field, f.excerpt))
                    .collect();
                false_positives.push(format!("{id}: {rules:?}"));
            }
            if top.is_some_and(|s| s >= Severity::Medium) {
                tally.flagged += 1;
                benign_flagged += 1;
                if !quarantined {
                    let rules: Vec<String> = found
                        .iter()
                        .filter(|f| f.severity >= Severity::Medium)
                        .map(|f| format!("{} {} {}", f.rule, f.field, f.excerpt))
                        .collect();
                    flagged.push(format!("{id}: {rules:?}"));
                }
            }
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\nsplit `{split}`, {}: {} definitions",
        if classifier {
            "rules + classifier"
        } else {
            "rules alone"
        },
        items.len()
    );
    let _ = writeln!(t, "| class | n | caught | rate |");
    let _ = writeln!(t, "|---|---:|---:|---:|");
    for (class, tally) in classes.iter().filter(|(c, _)| !c.starts_with("benign")) {
        let _ = writeln!(
            t,
            "| {class} | {} | {} | {:.0}% |",
            tally.total,
            tally.caught,
            pct(tally.caught, tally.total)
        );
    }
    let _ = writeln!(
        t,
        "| **all poisoned** | {poisoned} | {caught} | {:.1}% |",
        pct(caught, poisoned)
    );
    let _ = writeln!(
        t,
        "\n| benign class | n | quarantined | flagged (≥ medium) |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|");
    for (class, tally) in classes.iter().filter(|(c, _)| c.starts_with("benign")) {
        let _ = writeln!(
            t,
            "| {class} | {} | {} ({:.1}%) | {} ({:.1}%) |",
            tally.total,
            tally.caught,
            pct(tally.caught, tally.total),
            tally.flagged,
            pct(tally.flagged, tally.total)
        );
    }
    let _ = writeln!(
        t,
        "| **all benign** | {benign} | {benign_quarantined} ({:.1}%) | {benign_flagged} ({:.1}%) |",
        pct(benign_quarantined, benign),
        pct(benign_flagged, benign)
    );
    let _ = writeln!(
        t,
        "\npoisoned with a finding at `medium` or above (at least shown to the reviewer): {poisoned_medium} of {poisoned} ({:.1}%)",
        pct(poisoned_medium, poisoned)
    );
    let precision = pct(quarantine_tp, quarantine_tp + quarantine_fp);
    let _ = writeln!(
        t,
        "\nat quarantine severity (`high`): precision {precision:.1}% ({quarantine_tp} of {} quarantined are poisoned), recall {:.1}% ({quarantine_tp} of {poisoned} poisoned)",
        quarantine_tp + quarantine_fp,
        pct(quarantine_tp, poisoned)
    );
    Outcome {
        table: t,
        recall: if poisoned == 0 {
            0.0
        } else {
            caught as f64 / poisoned as f64
        },
        caught,
        benign_quarantined,
        benign,
        misses,
        false_positives,
        flagged,
    }
}

/// Checks `split` against its measured floors, the rules alone and the rules with the
/// classifier (as the gateway scans by default): at least `caught` poisoned definitions
/// caught, at most `quarantined` benign ones quarantined, each a `(rules alone, with the
/// classifier)` pair; prints the tables and whether issue 15's targets are met.
fn check_split_floor(split: &str, caught: (usize, usize), quarantined: (usize, usize)) {
    let labels = labels();
    let rules = measure(split, &labels, false);
    println!("{}", rules.table);
    for m in &rules.misses {
        println!("rules alone missed {m}");
    }
    for f in &rules.false_positives {
        println!("rules alone false positive {f}");
    }
    assert!(
        rules.caught >= caught.0,
        "split `{split}`, rules alone: {} poisoned caught, under the floor of {}",
        rules.caught,
        caught.0
    );
    assert!(
        rules.benign_quarantined <= quarantined.0,
        "split `{split}`, rules alone: {} of {} benign definitions quarantined, over the floor of {}",
        rules.benign_quarantined,
        rules.benign,
        quarantined.0
    );
    let (caught, quarantined) = (caught.1, quarantined.1);
    let out = measure(split, &labels, true);
    println!("{}", out.table);
    let rate = out.benign_quarantined as f64 / out.benign as f64;
    let met = out.recall >= MIN_RECALL && rate <= MAX_BENIGN_QUARANTINED;
    println!(
        "issue 15 targets (>= {:.0}% caught, <= {:.0}% benign quarantined): {}",
        100.0 * MIN_RECALL,
        100.0 * MAX_BENIGN_QUARANTINED,
        if met { "met" } else { "NOT met" }
    );
    for m in &out.misses {
        println!("missed {m}");
    }
    for f in &out.false_positives {
        println!("false positive {f}");
    }
    for f in &out.flagged {
        println!("benign at medium {f}");
    }
    assert!(out.benign > 0, "split `{split}` has no benign definitions");
    assert!(
        out.caught >= caught,
        "split `{split}`: {} poisoned caught, under the floor of {caught}",
        out.caught
    );
    assert!(
        out.benign_quarantined <= quarantined,
        "split `{split}`: {} of {} benign definitions quarantined, over the floor of {quarantined}",
        out.benign_quarantined,
        out.benign
    );
}

/// Tuned on since the first round: 199 of 199 caught, 0 of 108 quarantined; the same with the
/// classifier (trained on it).
#[test]
fn dev_split_holds_its_floor() {
    check_split_floor("dev", (199, 199), (0, 0));
}

/// Held out at the first freeze (83 of 126), tuned on since: 125 of 126, 0 of 74; the same with
/// the classifier (trained on it).
#[test]
fn round2_split_holds_its_floor() {
    check_split_floor("round2", (125, 125), (0, 0));
}

/// Held out at the second freeze (52 of 71, 1 of 50 quarantined), tuned on at the third
/// ("round3"): 71 of 71, 0 of 50; the same with the classifier (trained on it). Not evidence of
/// how the scan does on new text.
#[test]
fn round3_split_holds_its_floor() {
    check_split_floor("heldout", (71, 71), (0, 0));
}

/// Measured once while clean (third freeze): 34 of 74 poisoned caught, 3 of 52 benign
/// quarantined; with the classifier 46 and 4. Tuned on in round 4 (intent rules, classifier
/// retrained with it): 64 of 74 and 0 by the rules alone, 74 of 74 and 0 with the classifier.
/// Round 6 (in sample): 65 and 0 by the rules alone, 74 and 0 with the classifier. In sample,
/// so no evidence about new text.
#[test]
fn heldout2_split_holds_its_floor() {
    check_split_floor("heldout2", (65, 74), (0, 0));
}

/// Round 4, tuning data: written after the first intent rules and scanned once when complete
/// (rules alone 43 of 78 caught, 3 of 55 benign quarantined; with the old classifier 51 and
/// 3), then tuned on: 69 of 78 and 0 by the rules alone, 77 of 78 and 0 with the retrained
/// classifier (in sample). Round 6 (in sample): 70 and 0, 77 and 0.
#[test]
fn round4_split_holds_its_floor() {
    check_split_floor("round4", (70, 77), (0, 0));
}

/// Round 5: written after round 4 was committed and scanned once with it, before any tuning:
/// 18 of 40 poisoned caught by the rules alone (45.0%), 0 of 20 benign quarantined; with the
/// classifier 25 of 40 (62.5%) and 1 of 20. Far short of issue 15's targets: this is what
/// to expect on new wording. Then the classifier was retrained with it (the rules were not
/// changed for it): 30 of 40 and 0 of 20, in sample. Round 6 tuned the rules on it too (and
/// retrained the classifier with a stricter threshold): 29 of 40 by the rules alone, 35 with
/// the classifier, 0 of 20 quarantined, in sample.
#[test]
fn round5_split_holds_its_floor() {
    check_split_floor("round5", (29, 35), (0, 0));
}

/// Held-out split 3 (126 poisoned, 246 benign of which 96 hard look-alikes): written by a
/// separate author blind to the scanner (rules, classifier, the other splits) while round 4
/// was tuned, measured once after the freeze: rules alone 101 of 126 caught (80.2%), 12 of
/// 246 benign quarantined (4.9%); with the classifier 117 of 126 (92.9%) and 19 of 246
/// (7.7%; 0 of the 150 ordinary ones, 19 of the 96 hard ones). Recall meets issue 15's 90%,
/// the benign side (at most 1%) does not. Those blind figures were the floors until round 6,
/// which made it TUNING DATA (rules fixed by class on its false positives, classifier trained
/// on it): in sample, rules alone 101 of 126 and 0 of 246 quarantined, with the classifier 118
/// of 126 and 0 of 246. No evidence about new text; heldout4 is the next blind measure. Round
/// 7 (in sample): 103 of 126 by the rules alone, 119 with the classifier, 0 of 246.
#[test]
fn heldout3_split_holds_its_floor() {
    check_split_floor("heldout3", (103, 119), (0, 0));
}

/// Round 6: written in round 6 as tuning data, never held out (139 definitions: 50 poisoned,
/// 89 benign, most of them hard look-alikes in other wording than heldout3's). Its first scan,
/// with round 4's rules and classifier: 26 of 50 caught and 9 of 89 quarantined by the rules
/// alone, 38 and 13 with the classifier. After round 6, in sample: 39 of 50 and 3 of 89 by the
/// rules alone, 48 and 3 with the classifier. Its author had read the rules and heldout3's
/// false positives, so even the first scan is no clean measure.
#[test]
fn round6_split_holds_its_floor() {
    check_split_floor("round6", (39, 48), (3, 3));
}

/// Held-out split 4 (134 poisoned, 258 benign: 186 ordinary published-style definitions and 72
/// hard look-alikes): written by a separate author blind to the scanner (rules, classifier, the
/// other splits) while round 6 was tuned, measured once after the freeze: rules alone 99 of
/// 134 caught (73.9%), 3 of 258 benign quarantined (1.2%); with the classifier 120 of 134
/// (89.6%) and 5 of 258 (1.9%: 1 of the 186 ordinary, 4 of the 72 hard ones). Both of issue
/// 15's targets narrowly not met (one definition short of 90%; at most 2 benign for 1%). Those
/// blind figures were its floors until round 7, which made it TUNING DATA (rules fixed by class
/// on its misses and false positives; the classifier not retrained): in sample, rules alone 113
/// of 134 and 0 of 258 quarantined, with the classifier 134 of 134 and 1 of 258 (the reference
/// `fetch` server's published "Although originally you did not have internet access…", left
/// flagged on purpose). In sample, so no evidence about new text; heldout5 is the next blind
/// measure.
#[test]
fn heldout4_split_holds_its_floor() {
    check_split_floor("heldout4", (113, 134), (0, 1));
}

/// Held-out split 5 (134 poisoned, 273 benign: 198 ordinary published-style definitions and 75
/// hard look-alikes): written by a separate author blind to the scanner (rules, classifier, the
/// other splits) while round 7 was tuned, measured once after the freeze: rules alone 90 of
/// 134 caught (67.2%), 1 of 273 benign quarantined (0.4%); with the classifier 108 of 134
/// (80.6%) and 5 of 273 (1.8%: 2 of the 198 ordinary, 3 of the 75 hard ones). Issue 15's
/// targets not met (90%, 1%). The floors are those measurements; never tune on it.
#[test]
fn heldout5_split_holds_its_floor() {
    check_split_floor("heldout5", (90, 108), (1, 5));
}

#[test]
fn every_labelled_definition_is_in_its_split() {
    let labels = labels();
    for split in [
        "dev", "round2", "heldout", "heldout2", "round4", "round5", "heldout3", "round6",
        "heldout4", "heldout5",
    ] {
        let set: Value = serde_json::from_str(&data(&format!("poisoning/{split}.json"))).unwrap();
        let ids: Vec<&str> = set["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        let labelled = labels.values().filter(|l| l.split == split).count();
        assert_eq!(ids.len(), labelled, "split `{split}`");
    }
}

/// Zero findings at `high` or above on what real servers list; what lower findings there are,
/// printed for a look.
#[test]
fn real_catalogs_have_no_high_findings() {
    let mut scanned = 0;
    let mut low: Vec<String> = Vec::new();
    let mut check = |what: String, found: Vec<Finding>| {
        scanned += 1;
        for f in found {
            assert!(f.severity < QUARANTINE, "{what}: {f:#?}");
            low.push(format!("{what} {} {} {}", f.rule, f.field, f.excerpt));
        }
    };
    // The meta-tool catalog: 115 tools of eight npm servers, exposed with prefixed names.
    let meta: Value = serde_json::from_str(&data("meta_catalog.json")).unwrap();
    let tools = meta["tools"].as_array().unwrap();
    let names: Vec<(String, String)> = tools
        .iter()
        .map(|t| {
            let exposed = t["name"].as_str().unwrap();
            let (backend, name) = exposed.split_once("__").unwrap();
            (backend.to_owned(), name.to_owned())
        })
        .collect();
    let mut scanners: BTreeMap<&str, Scanner> = BTreeMap::new();
    for t in tools {
        let (backend, name) = t["name"].as_str().unwrap().split_once("__").unwrap();
        let mut def = t.clone();
        def["name"] = Value::String(name.to_owned());
        let scanner = scanners
            .entry(backend)
            .or_insert_with(|| Scanner::new(backend, &names).with_classifier(true));
        check(
            format!("meta_catalog {backend}/{name}"),
            scanner.scan(&def, Kind::Tool),
        );
    }
    // The reference servers as captured by capture_reference.py, with what a client's model
    // reads beyond the lists: `instructions` and static resources.
    let reference: Value =
        serde_json::from_str(&data("poisoning/reference_catalogs.json")).unwrap();
    let servers = reference.as_object().unwrap();
    let names: Vec<(String, String)> = servers
        .iter()
        .flat_map(|(s, v)| {
            v["tools"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |t| (s.clone(), t["name"].as_str().unwrap().to_owned()))
        })
        .collect();
    for (server, v) in servers {
        let scanner = Scanner::new(server, &names).with_classifier(true);
        if let Some(text) = v["instructions"].as_str() {
            check(
                format!("{server} instructions"),
                scanner.scan_text(text, "/instructions"),
            );
        }
        for (key, kind) in [
            ("tools", Kind::Tool),
            ("prompts", Kind::Prompt),
            ("resourceTemplates", Kind::ResourceTemplate),
            ("resources", Kind::ResourceTemplate),
        ] {
            for def in v[key].as_array().into_iter().flatten() {
                check(
                    format!("{server} {key} {}", def["name"]),
                    scanner.scan(def, kind),
                );
            }
        }
    }
    assert_eq!(scanned, 115 + 1 + 13 + 4 + 2 + 7 + 14 + 9 + 1);
    println!("{scanned} real definitions and texts, no finding at high or above");
    for l in &low {
        println!("below high: {l}");
    }
}

/// What the classifier adds to the cost of a scan: the first three splits' 628 definitions scanned
/// by the rules alone and with the classifier, after one untimed pass of each (compiled rules,
/// loaded vectors), best of two. Printed, never asserted (a timing depends on the machine);
/// `cargo bench --bench findings` is the benchmark.
#[test]
fn scan_cost_with_and_without_the_classifier() {
    let mut defs = Vec::new();
    for split in ["dev", "round2", "heldout"] {
        let set: Value = serde_json::from_str(&data(&format!("poisoning/{split}.json"))).unwrap();
        let names = backends(&set);
        for item in set["items"].as_array().unwrap() {
            let backend = item["backend"].as_str().unwrap().to_owned();
            defs.push((backend, names.clone(), item.clone()));
        }
    }
    let scanners: Vec<(Scanner, Scanner)> = defs
        .iter()
        .map(|(b, names, _)| {
            (
                Scanner::new(b, names),
                Scanner::new(b, names).with_classifier(true),
            )
        })
        .collect();
    let pass = |classifier: bool| {
        let started = std::time::Instant::now();
        for ((_, _, item), (off, on)) in defs.iter().zip(&scanners) {
            let s = if classifier { on } else { off };
            let _ = s.scan(&item["definition"], kind(item["kind"].as_str().unwrap()));
        }
        started.elapsed().as_secs_f64() * 1e6 / defs.len() as f64
    };
    pass(false);
    pass(true);
    let (mut off, mut on) = (f64::MAX, f64::MAX);
    for _ in 0..2 {
        off = off.min(pass(false));
        on = on.min(pass(true));
    }
    println!(
        "scan cost per definition over {} definitions (this build): rules alone {off:.0} µs, \
         rules + classifier {on:.0} µs ({:.2}x)",
        defs.len(),
        on / off
    );
}
