//! Taking the catalog's common direction out of the static vectors' cosine.
//!
//! Vectors averaged from word pieces share a large component (every tool text is English about
//! software: "get", "the", "file", "list"), so every tool sits in the same cone and a need's
//! cosine with a tool says as much about that shared part as about what the tool is for. The
//! classic remedy for averaged word vectors (Arora et al., "A simple but tough-to-beat baseline
//! for sentence embeddings", 2017; Mu and Viswanath, "All-but-the-top", 2018) is to remove the
//! common component: here, the mean of the catalog's tool vectors is subtracted from every
//! tool vector and from the need's, and each is normalised again. The mean is computed once
//! per index build (per catalog version and slice), so a search costs one subtraction more.

/// `v` scaled to unit length (left as is when it is zero).
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > f32::EPSILON {
        for x in &mut v {
            *x /= n;
        }
    }
    v
}

/// Subtract the mean of `vectors` (unit vectors, zeros for a tool with no known word) from
/// each non-zero one and normalise it again; the mean, for [`centre_query`]. `None` when
/// there is no vector.
pub fn centre(vectors: &mut [Vec<f32>]) -> Option<Vec<f32>> {
    let dims = vectors.first()?.len();
    let known = vectors
        .iter()
        .filter(|v| v.iter().any(|x| *x != 0.0))
        .count();
    if known == 0 {
        return None;
    }
    let mut mean = vec![0f32; dims];
    for v in vectors.iter() {
        for (m, x) in mean.iter_mut().zip(v) {
            *m += x;
        }
    }
    for m in &mut mean {
        *m /= known as f32;
    }
    for v in vectors.iter_mut() {
        if v.iter().any(|x| *x != 0.0) {
            *v = unit(v.iter().zip(&mean).map(|(a, b)| a - b).collect());
        }
    }
    Some(mean)
}

/// A need's unit vector with the catalog's `mean` taken out, normalised again.
pub fn centre_query(q: Vec<f32>, mean: Option<&[f32]>) -> Vec<f32> {
    match mean {
        Some(m) if m.len() == q.len() => unit(q.iter().zip(m).map(|(a, b)| a - b).collect()),
        _ => q,
    }
}
