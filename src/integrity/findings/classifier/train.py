#!/usr/bin/env python3
"""Train the poisoning classifier (`mod.rs` beside this file) and write `model.bin`.

Needs numpy only (PyPI `numpy==2.1.3`) and cargo; the features come from the scan's own code
through the `classifier_features` example, so training and scan cannot disagree:

    python3 -m venv /tmp/clf && /tmp/clf/bin/pip install numpy==2.1.3
    /tmp/clf/bin/python src/integrity/findings/classifier/train.py

What it learns from:

- every split of `tests/data/poisoning/`: `dev`, `round2`, `heldout` ("round3"), `heldout2`,
  `round4`, `round5`, `heldout3` and `round6`, all tuning data since round 6 (none is held
  out any more; heldout4 is never read here). Their
  scripts are run again with `corpus.write` replaced, to learn where each payload went. A
  sentence of a poisoned definition is positive when it is a sentence of its payload (for a
  definition written by hand without `placed`, when no benign definition has it); every
  other sentence, and every sentence of a benign definition, is negative. Payloads of the
  classes `encoded` and `hidden_chars` are left out: what they read as is the rules' business,
  and base64 taught as positive would flag every benign base64 example;
- the real catalogs `tests/data/meta_catalog.json` and
  `tests/data/poisoning/reference_catalogs.json`, all negative.

The model is a logistic regression with an L2 penalty, positives weighted to balance the
classes. `--no-hash` and `--no-vector` leave out the hashed words or the sentence vector (to
compare in cross-validation: the two together did best). The thresholds are chosen by five-fold cross-validation,
folds by definition: `high` is the lowest logit at which at most MAX_BENIGN_HIGH of the benign
definitions (labelled and real) would be quarantined by the classifier alone, `medium` the
lowest at which at most MAX_BENIGN_MEDIUM would be flagged. It prints the cross-validated
figures and writes `model.bin`. Deterministic for a given numpy.

`--cv-only` prints the figures without writing the model. `--holdout SPLIT` leaves SPLIT out
of training and of the thresholds, then scores it once and prints what the classifier alone
catches there: the closest thing to a measure on new wording these splits allow (round 4:
trained without round4, 32 of its 71 scored poisoned definitions over `high`, 0 of 55 benign;
without heldout2, 22 of 66 and 0 of 52; without round5, 17 of 39 and 1 of 20; round 6:
without heldout3, 65 of 126 and 2 of 243). `--l2 X` sets the L2 penalty (default L2).
"""
import json
import os
import pathlib
import runpy
import struct
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[3]
DATA = ROOT / "tests" / "data"
POISON = DATA / "poisoning"
TRAIN_SPLITS = ["dev", "round2", "heldout", "heldout2", "round4", "round5", "heldout3", "round6"]
SKIP_POSITIVE = {"encoded", "hidden_chars"}
FOLDS = 5
#: inputs before the hashed words: the sentence vector and its length.
DENSE = 257
#: the L2 penalty; cross-validation gave about the same between 0.3 and 10.
L2 = 1.0
MAX_BENIGN_HIGH = 0.01
MAX_BENIGN_MEDIUM = 0.05


def split_items(split):
    """(items, payloads): items as written by corpus.write, payloads by item id."""
    sys.path.insert(0, str(POISON))
    import corpus

    captured = {}
    last = {"payload": None}
    placed = corpus.placed.__wrapped__ if hasattr(corpus.placed, "__wrapped__") else corpus.placed

    def recording_placed(i, payload, where):
        last["payload"] = payload
        return placed(i, payload, where)

    recording_placed.__wrapped__ = placed
    corpus.placed = recording_placed
    poisoned = corpus.Split.poisoned.__dict__.get("__wrapped__", corpus.Split.poisoned)
    payloads = {}

    def recording_poisoned(self, cls, backend, definition, expect="quarantine", kind="tool"):
        poisoned(self, cls, backend, definition, expect, kind)
        payloads[self.items[-1][0]] = last["payload"]
        last["payload"] = None

    recording_poisoned.__wrapped__ = poisoned
    corpus.Split.poisoned = recording_poisoned
    corpus.write = lambda name, items: captured.setdefault(name, items)
    runpy.run_path(str(POISON / f"{split}.py"), run_name="__train__")
    items = captured[split]
    # The scripts must still write what the split holds.
    on_disk = {i["id"]: i["definition"] for i in json.loads((POISON / f"{split}.json").read_text())["items"]}
    for i, _, _, d, *_ in items:
        assert on_disk[i] == d, f"{split}.py no longer writes {i} as in {split}.json"
    return items, payloads


def strings(value, out):
    """Every string a model may read in a definition, and object keys that read as prose."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            if len(k.split()) >= 3:
                out.append(k)
            strings(v, out)
    elif isinstance(value, list):
        for v in value:
            strings(v, out)
    return out


def real_catalogs():
    """(group id, [strings]) of every real definition and text."""
    out = []
    meta = json.loads((DATA / "meta_catalog.json").read_text())
    for t in meta["tools"]:
        out.append((f"real:meta:{t['name']}", strings(t, [])))
    ref = json.loads((POISON / "reference_catalogs.json").read_text())
    for server, v in ref.items():
        if v.get("instructions"):
            out.append((f"real:{server}:instructions", [v["instructions"]]))
        for key in ["tools", "prompts", "resourceTemplates", "resources"]:
            for d in v.get(key) or []:
                out.append((f"real:{server}:{key}:{d.get('name')}", strings(d, [])))
    return out


def featurise(texts):
    """The scan's sentences of each text with their inputs, from the Rust example."""
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    subprocess.run(["cargo", "build", "--quiet", "--example", "classifier_features"],
                   cwd=ROOT, check=True)
    exe = pathlib.Path(target) / "debug" / "examples" / "classifier_features"
    inp = "".join(json.dumps(t) + "\n" for t in texts)
    res = subprocess.run([str(exe)], input=inp, capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == len(texts)
    return rows


def dataset(splits):
    """Rows of (group, split, label of the definition, class, sentence, y, x)."""
    defs = []  # (group, split, poisoned, class, [strings], payload)
    for split in splits:
        items, payloads = split_items(split)
        for i, backend, kind, d, label, cls, expect in items:
            defs.append((i, split, label == "poisoned", cls, strings(d, []), payloads.get(i)))
    for group, ss in real_catalogs():
        defs.append((group, "real", False, "real", ss, None))
    texts = sorted({s for *_, ss, p in defs for s in ss} | {p for *_, p in defs if p})
    feats = dict(zip(texts, featurise(texts)))
    clean = {sent for g, sp, poisoned, c, ss, p in defs if not poisoned for s in ss
             for sent, _ in feats[s]}
    rows = []
    for group, split, poisoned, cls, ss, payload in defs:
        pay = {sent for sent, _ in feats[payload]} if payload else set()
        for s in ss:
            for sent, x in feats[s]:
                y = 0
                if poisoned and cls not in SKIP_POSITIVE:
                    if payload:
                        y = int(sent in pay or (sent not in clean and any(p in sent for p in pay)))
                    else:
                        y = int(sent not in clean)
                elif poisoned and (sent in pay or sent not in clean):
                    continue  # an encoded or hidden payload: neither side
                rows.append((group, split, poisoned, cls, sent, y, x))
    return rows


def l2_arg():
    """`--l2 X`: the L2 penalty (default L2)."""
    if "--l2" in sys.argv:
        return float(sys.argv[sys.argv.index("--l2") + 1])
    return L2


def fit(X, y, l2=None, iters=30):
    """Logistic regression by Newton's method (IRLS), classes balanced."""
    # Not standardised: the sentence vector is unit length and the hashed words are 0/1.
    # Standardising the vector's 256 dimensions made every one weigh like a word and lost a
    # third of the cross-validated recall at `high` (105 -> 59 of 343).
    mu = np.zeros(X.shape[1])
    sd = np.ones(X.shape[1])
    Z = np.hstack([(X - mu) / sd, np.ones((len(X), 1))])
    pos = y.sum()
    wts = np.where(y == 1, len(y) / (2 * max(pos, 1)), len(y) / (2 * max(len(y) - pos, 1)))
    w = np.zeros(Z.shape[1])
    reg = np.full(Z.shape[1], l2_arg() if l2 is None else l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1 / (1 + np.exp(-(Z @ w)))
        g = Z.T @ (wts * (p - y)) + reg * w
        H = (Z * (wts * p * (1 - p))[:, None]).T @ Z + np.diag(reg)
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    # logit = x . w' + b' (the identity scaling kept, should the inputs be scaled again).
    wx = w[:-1] / sd
    b = w[-1] - (w[:-1] * mu / sd).sum()
    return wx, b


def dedup(idx, sents, y):
    """One row per distinct (sentence, label) among idx: the persona texts repeat a lot."""
    seen = set()
    keep = []
    for i in idx:
        k = (sents[i], y[i])
        if k not in seen:
            seen.add(k)
            keep.append(i)
    return np.array(keep)


def threshold(benign_scores, budget):
    """The lowest logit at which at most `budget` of the benign definitions score at or above."""
    s = np.sort(np.asarray(benign_scores))[::-1]
    allowed = int(np.floor(budget * len(s)))
    # Above the (allowed+1)-th highest benign score.
    return float(np.nextafter(np.float32(s[allowed]), np.float32(np.inf))) if allowed < len(s) else -np.inf


def holdout_arg():
    """`--holdout SPLIT`: train and set thresholds without SPLIT, then score it once."""
    if "--holdout" in sys.argv:
        return sys.argv[sys.argv.index("--holdout") + 1]
    return None


def main():
    held = holdout_arg()
    rows = dataset(TRAIN_SPLITS)
    groups = np.array([r[0] for r in rows])
    splits = np.array([r[1] for r in rows])
    poisoned = np.array([r[2] for r in rows])
    classes = np.array([r[3] for r in rows])
    sents = [r[4] for r in rows]
    y = np.array([r[5] for r in rows])
    X = np.array([r[6] for r in rows], dtype=np.float64)
    if "--no-hash" in sys.argv:
        X[:, DENSE:] = 0.0
    if "--no-vector" in sys.argv:
        X[:, :DENSE - 1] = 0.0
    print(f"{len(rows)} sentences ({y.sum()} positive) from {len(set(groups))} definitions; "
          f"{X.shape[1]} inputs")
    if held:
        keep = splits != held
        held_rows = ~keep
        hg, hs, hp, hc = groups[held_rows], splits[held_rows], poisoned[held_rows], classes[held_rows]
        hX = X[held_rows]
        groups, splits, poisoned, classes = groups[keep], splits[keep], poisoned[keep], classes[keep]
        sents = [t for t, k in zip(sents, keep) if k]
        y, X = y[keep], X[keep]
    # Folds by definition, deterministic.
    ug = sorted(set(groups))
    rng = np.random.default_rng(15)
    order = rng.permutation(len(ug))
    fold_of = {g: int(order[k]) % FOLDS for k, g in enumerate(ug)}
    fold = np.array([fold_of[g] for g in groups])
    oof = np.zeros(len(rows))
    for f in range(FOLDS):
        tr = dedup(np.where(fold != f)[0], sents, y)
        w, b = fit(X[tr], y[tr])
        te = np.where(fold == f)[0]
        oof[te] = X[te] @ w + b
    # Per definition: its highest sentence.
    best = {}
    for g, s in zip(groups, oof):
        best[g] = max(best.get(g, -np.inf), s)
    info = {}
    for g, sp, po, c in zip(groups, splits, poisoned, classes):
        info[g] = (sp, po, c)
    benign = [best[g] for g in best if not info[g][1]]
    high = threshold(benign, MAX_BENIGN_HIGH)
    medium = min(threshold(benign, MAX_BENIGN_MEDIUM), high)
    print(f"cross-validated thresholds on the logit: high {high:.3f}, medium {medium:.3f}")
    if "--dump-oof" in sys.argv:
        # Every sentence's out-of-fold score, to study a decision rule on top of the model.
        path = sys.argv[sys.argv.index("--dump-oof") + 1]
        with open(path, "w") as f:
            json.dump({"high": high, "medium": medium, "rows": [
                [str(g), str(sp), bool(po), str(c), t, float(v)]
                for g, sp, po, c, t, v in zip(groups, splits, poisoned, classes, sents, oof)]}, f)
    report(best, info, high, medium)
    for g in sorted(best, key=lambda g: -best[g]):
        if not info[g][1] and best[g] >= medium:
            i = [k for k in range(len(groups)) if groups[k] == g]
            top = max(i, key=lambda k: oof[k])
            lvl = "high" if best[g] >= high else "medium"
            print(f"  benign over {lvl}: {g} {oof[top]:.2f} «{sents[top][:140]}»")
    if held:
        tr = dedup(np.arange(len(y)), sents, y)
        w, b = fit(X[tr], y[tr])
        sc = hX @ w + b
        hb = {}
        for g, v in zip(hg, sc):
            hb[g] = max(hb.get(g, -np.inf), v)
        hinfo = {g: (p, c) for g, p, c in zip(hg, hp, hc)}
        po = [g for g in hb if hinfo[g][0]]
        be = [g for g in hb if not hinfo[g][0]]
        print(f"\nheld-out split `{held}`, the classifier alone (trained without it): "
              f"poisoned with a scored sentence {len(po)}: {sum(hb[g] >= high for g in po)} over high, "
              f"{sum(hb[g] >= medium for g in po)} over medium; benign {len(be)}: "
              f"{sum(hb[g] >= high for g in be)} over high, {sum(hb[g] >= medium for g in be)} over medium")
        for c in sorted({hinfo[g][1] for g in po}):
            gs = [g for g in po if hinfo[g][1] == c]
            print(f"  {c}: {len(gs)}: {sum(hb[g] >= high for g in gs)} / {sum(hb[g] >= medium for g in gs)}")
        return
    if "--cv-only" in sys.argv:
        return
    tr = dedup(np.arange(len(rows)), sents, y)
    w, b = fit(X[tr], y[tr])
    full = X @ w + b
    fb = {}
    for g, s in zip(groups, full):
        fb[g] = max(fb.get(g, -np.inf), s)
    real_over = [g for g in fb if info[g][0] == "real" and fb[g] >= high]
    print(f"final model, in sample: real definitions over high: {len(real_over)} {real_over}")
    out = HERE / "model.bin"
    blob = b"PCCLF001" + struct.pack("<II", len(w), 0)
    blob += struct.pack(f"<{len(w)}f", *w) + struct.pack("<f", b) + struct.pack("<ff", high, medium)
    out.write_bytes(blob)
    print(f"wrote {out.relative_to(ROOT)} ({len(blob)} bytes)")


def report(best, info, high, medium):
    print("\ncross-validated, the classifier alone, per definition (highest sentence):")
    print("| split | poisoned | caught at high | at medium | benign | over high | over medium |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for sp in TRAIN_SPLITS + ["real"]:
        gs = [g for g in best if info[g][0] == sp]
        po = [g for g in gs if info[g][1]]
        be = [g for g in gs if not info[g][1]]
        print(f"| {sp} | {len(po)} | {sum(best[g] >= high for g in po)} | "
              f"{sum(best[g] >= medium for g in po)} | {len(be)} | "
              f"{sum(best[g] >= high for g in be)} | {sum(best[g] >= medium for g in be)} |")
    print("\nby class (all tuned splits), caught at high / at medium:")
    cls = sorted({info[g][2] for g in best if info[g][1]})
    for c in cls:
        gs = [g for g in best if info[g][1] and info[g][2] == c]
        print(f"  {c}: {len(gs)}: {sum(best[g] >= high for g in gs)} / "
              f"{sum(best[g] >= medium for g in gs)}")


if __name__ == "__main__":
    main()
