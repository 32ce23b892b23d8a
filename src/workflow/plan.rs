//! The DAG of a workflow: cycle detection, the waves it runs in, each step's upstream set, and
//! the text `portcullis workflow plan NAME` prints.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::Workflow;

/// Steps grouped by the earliest moment they can start: wave 0 has no dependencies, wave n
/// depends on something in wave n-1. Within a wave, definition order. `Err` is a cycle (step
/// indices in order, the first repeated implicitly at the end).
pub fn waves(deps: &[Vec<usize>]) -> Result<Vec<Vec<usize>>, Vec<usize>> {
    let n = deps.len();
    let mut level: Vec<Option<usize>> = vec![None; n];
    let mut done = 0;
    let mut waves: Vec<Vec<usize>> = Vec::new();
    while done < n {
        let mut wave = Vec::new();
        for (i, d) in deps.iter().enumerate() {
            if level.get(i).copied().flatten().is_some() {
                continue;
            }
            let ready = d.iter().all(|j| {
                level
                    .get(*j)
                    .copied()
                    .flatten()
                    .is_some_and(|l| l < waves.len())
            });
            if ready {
                wave.push(i);
            }
        }
        if wave.is_empty() {
            return Err(find_cycle(deps, &level));
        }
        let w = waves.len();
        for i in &wave {
            if let Some(slot) = level.get_mut(*i) {
                *slot = Some(w);
            }
        }
        done += wave.len();
        waves.push(wave);
    }
    Ok(waves)
}

/// A cycle among the steps not yet levelled (each of them has an unlevelled dependency, so
/// walking dependencies from any of them must revisit a step).
fn find_cycle(deps: &[Vec<usize>], level: &[Option<usize>]) -> Vec<usize> {
    let open = |i: usize| level.get(i).copied().flatten().is_none();
    let Some(start) = (0..deps.len()).find(|i| open(*i)) else {
        return Vec::new();
    };
    let mut path = vec![start];
    let mut cur = start;
    for _ in 0..=deps.len() {
        let Some(next) = deps
            .get(cur)
            .and_then(|d| d.iter().copied().find(|j| open(*j)))
        else {
            break;
        };
        if let Some(pos) = path.iter().position(|p| *p == next) {
            // Report the cycle in the direction the user wrote it: a depends on b → "b → a".
            let mut cycle: Vec<usize> = path.get(pos..).map(<[usize]>::to_vec).unwrap_or_default();
            cycle.reverse();
            return cycle;
        }
        path.push(next);
        cur = next;
    }
    path
}

/// Each step's transitive dependencies.
pub fn upstream(deps: &[Vec<usize>]) -> Vec<BTreeSet<usize>> {
    let mut out: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); deps.len()];
    for (i, slot) in out.iter_mut().enumerate() {
        let mut stack: Vec<usize> = deps.get(i).cloned().unwrap_or_default();
        while let Some(j) = stack.pop() {
            if slot.insert(j) {
                stack.extend(deps.get(j).into_iter().flatten().copied());
            }
        }
    }
    out
}

/// The plan as text: the steps with their edges, then the waves in the order they run.
pub fn render(w: &Workflow) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "workflow `{}` ({}:{}): {} step(s), at most {} at once, time limit {} s",
        w.name,
        w.origin.file,
        w.origin.line,
        w.steps.len(),
        w.max_parallel,
        w.timeout.as_secs()
    );
    let _ = writeln!(s, "\nsteps:");
    for st in &w.steps {
        let deps: Vec<&str> = st
            .depends_on
            .iter()
            .filter_map(|j| w.steps.get(*j).map(|d| d.id.as_str()))
            .collect();
        let _ = write!(s, "  {} → tool `{}`", st.id, st.tool);
        if !deps.is_empty() {
            let _ = write!(s, ", after {}", deps.join(", "));
        }
        if let Some(c) = &st.when {
            let _ = write!(s, ", when `{c}`");
        }
        let _ = write!(s, ", timeout {} s", st.timeout.as_secs());
        match st.on_error {
            super::OnError::Abort => {
                let _ = write!(s, ", on error abort");
            }
            super::OnError::Continue => {
                let _ = write!(s, ", on error continue");
            }
            super::OnError::Retry => {
                let _ = write!(
                    s,
                    ", on error retry ×{} (backoff {} ms, doubling)",
                    st.retries,
                    st.backoff.as_millis()
                );
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "\norder:");
    for (n, wave) in w.waves.iter().enumerate() {
        let ids: Vec<&str> = wave
            .iter()
            .filter_map(|i| w.steps.get(*i).map(|st| st.id.as_str()))
            .collect();
        let note = if ids.len() > 1 {
            format!(" (in parallel, up to {} at once)", w.max_parallel)
        } else {
            String::new()
        };
        let _ = writeln!(s, "  {}. {}{note}", n + 1, ids.join(", "));
    }
    let _ = writeln!(
        s,
        "\nA step starts as soon as the steps it depends on have finished; steps that become ready together start in the order above."
    );
    s
}
