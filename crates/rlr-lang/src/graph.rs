//! The reward graph as a petgraph DAG: ordering, cycle detection.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::ir::{Node, NodeId, RewardGraph};
use crate::source::Span;

/// Orders `n` items so that each comes after what it reads (`reads[i]`:
/// the items `i` reads, with where). Ties keep source order. Items on a
/// cycle, or reading one, are left out of the order; each cycle is returned
/// as its path `i0 reads i1 reads ... reads i0`, each step with its place.
pub fn order_with_cycles(
    n: usize,
    reads: &[Vec<(usize, Span)>],
) -> (Vec<usize>, Vec<Vec<(usize, Span)>>) {
    let mut g: DiGraph<usize, Span> = DiGraph::new();
    let idx: Vec<NodeIndex> = (0..n).map(|i| g.add_node(i)).collect();
    for (i, rs) in reads.iter().enumerate() {
        for (j, span) in rs {
            g.add_edge(idx[i], idx[*j], *span);
        }
    }
    let mut cycles = Vec::new();
    for scc in petgraph::algo::tarjan_scc(&g) {
        let self_loop = scc.len() == 1 && g.find_edge(scc[0], scc[0]).is_some();
        if scc.len() > 1 || self_loop {
            let members: Vec<usize> = scc.iter().map(|x| g[*x]).collect();
            cycles.push(cycle_path(&members, reads));
        }
    }
    cycles.sort_by_key(|c| c.first().map(|(i, _)| *i));
    let deps: Vec<Vec<usize>> = reads
        .iter()
        .map(|rs| rs.iter().map(|(j, _)| *j).collect())
        .collect();
    (kahn(n, &deps), cycles)
}

/// A simple cycle through the smallest member of a strongly connected set.
fn cycle_path(members: &[usize], reads: &[Vec<(usize, Span)>]) -> Vec<(usize, Span)> {
    let start = members.iter().copied().min().unwrap_or(0);
    // Depth-first search inside the set for a path back to `start`.
    let mut path: Vec<(usize, Span)> = Vec::new();
    let mut visited = vec![false; reads.len()];
    fn dfs(
        at: usize,
        start: usize,
        members: &[usize],
        reads: &[Vec<(usize, Span)>],
        visited: &mut [bool],
        path: &mut Vec<(usize, Span)>,
    ) -> bool {
        visited[at] = true;
        for (next, span) in &reads[at] {
            if !members.contains(next) {
                continue;
            }
            path.push((at, *span));
            if *next == start
                || (!visited[*next] && dfs(*next, start, members, reads, visited, path))
            {
                return true;
            }
            path.pop();
        }
        false
    }
    dfs(start, start, members, reads, &mut visited, &mut path);
    path
}

/// Kahn's algorithm: items whose inputs all come earlier, smallest index first.
pub fn kahn(n: usize, deps: &[Vec<usize>]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        let mut ds = ds.clone();
        ds.sort_unstable();
        ds.dedup();
        indegree[i] = ds.len();
        for d in ds {
            if d < n {
                readers[d].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|i| indegree[*i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for r in &readers[i] {
            indegree[*r] -= 1;
            if indegree[*r] == 0 {
                ready.push(Reverse(*r));
            }
        }
    }
    order
}

/// Builds the DAG of checked nodes (which the checker guarantees acyclic).
pub fn build(nodes: Vec<Node>) -> RewardGraph {
    let mut dag: DiGraph<NodeId, Span> = DiGraph::new();
    for i in 0..nodes.len() {
        dag.add_node(NodeId(i as u32));
    }
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        let mut refs = Vec::new();
        node.expr.references(&mut refs);
        if let Some(f) = &node.fallback {
            f.references(&mut refs);
        }
        let mut seen = Vec::new();
        for (dep, span) in refs {
            if !seen.contains(&dep) {
                seen.push(dep);
                dag.add_edge(NodeIndex::new(dep.0 as usize), NodeIndex::new(i), span);
            }
        }
        deps.push(seen.iter().map(|d| d.0 as usize).collect());
    }
    let order = kahn(nodes.len(), &deps)
        .into_iter()
        .map(|i| NodeId(i as u32))
        .collect();
    RewardGraph { nodes, order, dag }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_and_finds_cycles() {
        let s = Span::default();
        // 0 reads 1; 1 reads 2; 2 reads 1; 3 reads nothing.
        let reads = vec![vec![(1, s)], vec![(2, s)], vec![(1, s)], vec![]];
        let (order, cycles) = order_with_cycles(4, &reads);
        assert_eq!(order, vec![3]);
        assert_eq!(cycles.len(), 1);
        assert_eq!(
            cycles[0].iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let (order, cycles) = order_with_cycles(3, &[vec![(2, s)], vec![], vec![(1, s)]]);
        assert_eq!(order, vec![1, 2, 0]);
        assert!(cycles.is_empty());
    }
}
