//! A semantic diff of two compiled recipes (`rlr diff`).
//!
//! Compares the resolved programs, not the text: defaults are filled in,
//! functions are expanded and settings are folded into expressions, so a
//! change of formatting or comments is no difference, and a changed default
//! (after a stage kind changed) is one. Spans are never compared.
//!
//! What is compared: the recipe's name and metadata; declarations (by name,
//! per argument); the order of the stages; per stage (by name) its kind,
//! settings, branches, reward-graph nodes (by name, their rendered
//! definitions, types and rollouts), the graph's edges (`a -> b` by node
//! names), filters and objectives. The order of declarations and of
//! independent bindings is not a difference.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::dump;
use crate::ir::{Arg, BranchDef, Const, Decl, Expr, ExprKind, Node, Program, RewardGraph, Stage};

/// How one thing differs between recipe A and recipe B.
#[derive(Clone, Debug, PartialEq)]
pub enum Change<T> {
    /// Only in B.
    Added(T),
    /// Only in A.
    Removed(T),
    /// In both, different: the value in A, then in B.
    Changed(T, T),
}

/// A named constant (a metadata field, an argument, a setting) that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field's, argument's or setting's name.
    pub name: String,
    /// Its values.
    pub change: Change<Const>,
}

/// A named item (declaration, stage, branch, node) added, removed or changed.
#[derive(Clone, Debug, PartialEq)]
pub enum Item<C> {
    /// Only in B, with its definition as text.
    Added {
        /// Its name.
        name: String,
        /// Its definition, in recipe-like syntax.
        text: String,
    },
    /// Only in A, with its definition as text.
    Removed {
        /// Its name.
        name: String,
        /// Its definition, in recipe-like syntax.
        text: String,
    },
    /// In both, with what differs.
    Changed {
        /// Its name.
        name: String,
        /// What differs.
        changes: C,
    },
}

/// What differs in a declaration present in both recipes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeclChanges {
    /// `model`, `task` or `tool` in B, for the report.
    pub keyword: String,
    /// `model`, `task` or `tool`, when that changed.
    pub kind: Option<(String, String)>,
    /// The constructor, when it changed.
    pub builtin: Option<(String, String)>,
    /// Arguments (defaults filled in) that differ, sorted by name.
    pub args: Vec<Field>,
}

/// What differs in a branch present in both versions of a stage.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BranchChanges {
    /// The name of the node holding its prompt, when that changed.
    pub prompt: Option<(String, String)>,
    /// Arguments (defaults filled in) that differ, sorted by name.
    pub args: Vec<Field>,
}

/// What differs in a node present in both versions of a stage's graph.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeChanges {
    /// Its definition (expression and fallback, rendered), when that changed.
    pub definition: Option<(String, String)>,
    /// Where the two definitions have the same shape, the constants that
    /// differ, in reading order (e.g. a gate threshold `0.5` → `0.7`).
    pub constants: Vec<(Const, Const)>,
    /// Its type, when that changed.
    pub ty: Option<(String, String)>,
    /// The rollouts its values belong to (`None`: the main ones), when that changed.
    pub rollouts: Option<(Option<String>, Option<String>)>,
}

/// An edge of a reward graph: `to` reads `from`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The node read.
    pub from: String,
    /// The node reading it.
    pub to: String,
}

/// What differs in a stage present in both recipes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StageChanges {
    /// The stage kind (`grpo`, `sft`, ...), when it changed.
    pub kind: Option<(String, String)>,
    /// Settings (defaults filled in, `model` and `task` included) that differ, sorted by name.
    pub settings: Vec<Field>,
    /// Branches added, removed or changed.
    pub branches: Vec<Item<BranchChanges>>,
    /// Nodes added, removed or changed.
    pub nodes: Vec<Item<NodeChanges>>,
    /// Edges added or removed.
    pub edges: Vec<Change<Edge>>,
    /// Filters added or removed, as `halt when NODE [unless NODE]`.
    pub filters: Vec<Change<String>>,
    /// Objectives added or removed, as `optimize NODE [on B] [scaled by N] [weight N] [where N]`.
    pub objectives: Vec<Change<String>>,
}

impl StageChanges {
    fn is_empty(&self) -> bool {
        self == &StageChanges::default()
    }
}

/// Every semantic difference between two compiled recipes, A and B.
///
/// Lists are in a fixed order: removed items first (in A's order), then
/// changed and added ones in B's order; fields sorted by name; edges by the
/// reading node, then the node read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diff {
    /// The recipe's name, when it changed.
    pub name: Option<(String, String)>,
    /// Metadata fields (`seed`, `paper`, ...) that differ, sorted by name.
    pub meta: Vec<Field>,
    /// Declarations added, removed or changed.
    pub decls: Vec<Item<DeclChanges>>,
    /// The order of the stages both recipes have, when it changed.
    pub stage_order: Option<(Vec<String>, Vec<String>)>,
    /// Stages added, removed or changed.
    pub stages: Vec<Item<StageChanges>>,
}

impl Diff {
    /// Whether the two recipes are semantically the same.
    pub fn is_empty(&self) -> bool {
        self == &Diff::default()
    }

    /// How many changes the report lists (one per line of [`Display`](fmt::Display)).
    pub fn len(&self) -> usize {
        self.lines().len()
    }

    /// The report's lines, each starting with `+`, `-` or `~`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some((a, b)) = &self.name {
            out.push(format!("~ recipe name: {a:?} → {b:?}"));
        }
        fields(&mut out, "recipe", &self.meta);
        for d in &self.decls {
            match d {
                Item::Added { text, .. } => out.push(format!("+ {text}")),
                Item::Removed { text, .. } => out.push(format!("- {text}")),
                Item::Changed { name, changes } => {
                    let place = format!("{} {name}", changes.keyword);
                    pair(&mut out, &place, "kind", &changes.kind);
                    pair(&mut out, &place, "constructor", &changes.builtin);
                    fields(&mut out, &format!("{place}:"), &changes.args);
                }
            }
        }
        if let Some((a, b)) = &self.stage_order {
            out.push(format!(
                "~ stage order: {} → {}",
                a.join(", "),
                b.join(", ")
            ));
        }
        for s in &self.stages {
            match s {
                Item::Added { text, .. } => out.push(format!("+ {text}")),
                Item::Removed { text, .. } => out.push(format!("- {text}")),
                Item::Changed { name, changes } => stage_lines(&mut out, name, changes),
            }
        }
        out
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self.lines();
        if lines.is_empty() {
            return writeln!(f, "no semantic differences");
        }
        for l in lines {
            writeln!(f, "{l}")?;
        }
        Ok(())
    }
}

fn stage_lines(out: &mut Vec<String>, name: &str, c: &StageChanges) {
    let place = format!("stage {name}");
    pair(out, &place, "kind", &c.kind);
    let settings = format!("{place}: setting");
    fields(out, &settings, &c.settings);
    for b in &c.branches {
        match b {
            Item::Added { text, .. } => out.push(format!("+ {place}: {text}")),
            Item::Removed { text, .. } => out.push(format!("- {place}: {text}")),
            Item::Changed { name, changes } => {
                let here = format!("{place}: branch {name}");
                pair(out, &here, "prompt", &changes.prompt);
                fields(out, &format!("{here}:"), &changes.args);
            }
        }
    }
    for n in &c.nodes {
        match n {
            Item::Added { text, .. } => out.push(format!("+ {place}: {text}")),
            Item::Removed { text, .. } => out.push(format!("- {place}: {text}")),
            Item::Changed { name, changes } => {
                let here = format!("{place}: node {name}");
                if let Some((a, b)) = &changes.definition {
                    let mut line = format!("~ {here}: {a} → {b}");
                    if !changes.constants.is_empty() {
                        let consts: Vec<String> = changes
                            .constants
                            .iter()
                            .map(|(x, y)| format!("{x} → {y}"))
                            .collect();
                        line.push_str(&format!(" ({})", consts.join(", ")));
                    }
                    out.push(line);
                }
                pair(out, &here, "type", &changes.ty);
                if let Some((a, b)) = &changes.rollouts {
                    let on = |r: &Option<String>| r.clone().unwrap_or_else(|| "main".into());
                    out.push(format!("~ {here}: rollouts {} → {}", on(a), on(b)));
                }
            }
        }
    }
    for e in &c.edges {
        match e {
            Change::Added(e) => out.push(format!("+ {place}: edge {} -> {}", e.from, e.to)),
            Change::Removed(e) => out.push(format!("- {place}: edge {} -> {}", e.from, e.to)),
            Change::Changed(..) => {}
        }
    }
    for f in c.filters.iter().chain(&c.objectives) {
        match f {
            Change::Added(t) => out.push(format!("+ {place}: {t}")),
            Change::Removed(t) => out.push(format!("- {place}: {t}")),
            Change::Changed(a, b) => out.push(format!("~ {place}: {a} → {b}")),
        }
    }
}

fn pair(out: &mut Vec<String>, place: &str, what: &str, p: &Option<(String, String)>) {
    if let Some((a, b)) = p {
        out.push(format!("~ {place}: {what} {a} → {b}"));
    }
}

fn fields(out: &mut Vec<String>, place: &str, fs: &[Field]) {
    for f in fs {
        out.push(match &f.change {
            Change::Added(v) => format!("+ {place} {} = {v}", f.name),
            Change::Removed(v) => format!("- {place} {} = {v}", f.name),
            Change::Changed(a, b) => format!("~ {place} {}: {a} → {b}", f.name),
        });
    }
}

/// Every semantic difference between recipe `a` and recipe `b`.
pub fn diff(a: &Program, b: &Program) -> Diff {
    let stage_order = {
        let common = |p: &Program, other: &Program| -> Vec<String> {
            p.stages
                .iter()
                .filter(|s| other.stages.iter().any(|o| o.name == s.name))
                .map(|s| s.name.clone())
                .collect()
        };
        let (x, y) = (common(a, b), common(b, a));
        (x != y).then_some((x, y))
    };
    Diff {
        name: (a.name != b.name).then(|| (a.name.clone(), b.name.clone())),
        meta: map_fields(&a.meta, &b.meta),
        decls: items(
            &a.decls,
            &b.decls,
            |d| &d.name,
            |_, d| decl_text(d),
            decl_changes,
        ),
        stage_order,
        stages: items(
            &a.stages,
            &b.stages,
            |s| &s.name,
            |_, s| stage_text(s),
            |x, y| {
                let c = stage_changes(x, y);
                (!c.is_empty()).then_some(c)
            },
        ),
    }
}

/// Which recipe an item comes from.
#[derive(Clone, Copy)]
enum Side {
    A,
    B,
}

/// Matches items by name: removed ones (A's order), then changed and added ones (B's order).
fn items<'p, T, C>(
    a: &'p [T],
    b: &'p [T],
    name: impl Fn(&'p T) -> &'p String,
    text: impl Fn(Side, &'p T) -> String,
    changes: impl Fn(&'p T, &'p T) -> Option<C>,
) -> Vec<Item<C>> {
    let in_a: HashMap<&String, &T> = a.iter().map(|x| (name(x), x)).collect();
    let in_b: BTreeSet<&String> = b.iter().map(&name).collect();
    let mut out = Vec::new();
    for x in a {
        if !in_b.contains(name(x)) {
            out.push(Item::Removed {
                name: name(x).clone(),
                text: text(Side::A, x),
            });
        }
    }
    for y in b {
        match in_a.get(name(y)) {
            None => out.push(Item::Added {
                name: name(y).clone(),
                text: text(Side::B, y),
            }),
            Some(x) => {
                if let Some(c) = changes(x, y) {
                    out.push(Item::Changed {
                        name: name(y).clone(),
                        changes: c,
                    });
                }
            }
        }
    }
    out
}

fn map_fields(a: &BTreeMap<String, Const>, b: &BTreeMap<String, Const>) -> Vec<Field> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let change = match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) if x == y => return None,
                (Some(x), Some(y)) => Change::Changed(x.clone(), y.clone()),
                (Some(x), None) => Change::Removed(x.clone()),
                (None, Some(y)) => Change::Added(y.clone()),
                (None, None) => return None,
            };
            Some(Field {
                name: k.clone(),
                change,
            })
        })
        .collect()
}

fn changed<T: PartialEq + ToString>(a: T, b: T) -> Option<(String, String)> {
    (a != b).then(|| (a.to_string(), b.to_string()))
}

fn args_text(args: &BTreeMap<String, Const>) -> String {
    args.iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn decl_text(d: &Decl) -> String {
    format!(
        "{} {} = {}({})",
        d.kind.keyword(),
        d.name,
        d.builtin,
        args_text(&d.args)
    )
}

fn decl_changes(a: &Decl, b: &Decl) -> Option<DeclChanges> {
    let c = DeclChanges {
        keyword: b.kind.keyword().to_string(),
        kind: changed(a.kind.keyword(), b.kind.keyword()),
        builtin: changed(a.builtin, b.builtin),
        args: map_fields(&a.args, &b.args),
    };
    (c.kind.is_some() || c.builtin.is_some() || !c.args.is_empty()).then_some(c)
}

fn stage_text(s: &Stage) -> String {
    format!(
        "stage {} = {}(model = {}, task = {})",
        s.name, s.kind, s.model, s.task
    )
}

/// The settings, with `model` and `task` added where the stage kind does not list them.
fn settings(s: &Stage) -> BTreeMap<String, Const> {
    let mut m = s.settings.clone();
    m.entry("model".into())
        .or_insert_with(|| Const::Name(s.model.clone()));
    m.entry("task".into())
        .or_insert_with(|| Const::Name(s.task.clone()));
    m
}

fn stage_changes(a: &Stage, b: &Stage) -> StageChanges {
    let (ga, gb) = (&a.graph, &b.graph);
    StageChanges {
        kind: changed(a.kind, b.kind),
        settings: map_fields(&settings(a), &settings(b)),
        branches: items(
            &a.branches,
            &b.branches,
            |x| &x.name,
            |side, x| branch_text(pick(side, ga, gb), x),
            |x, y| {
                let c = BranchChanges {
                    prompt: changed(&ga.node(x.prompt).name, &gb.node(y.prompt).name),
                    args: map_fields(&x.args, &y.args),
                };
                (c != BranchChanges::default()).then_some(c)
            },
        ),
        nodes: items(
            &ga.nodes,
            &gb.nodes,
            |n| &n.name,
            |side, n| format!("node {} = {}", n.name, definition(pick(side, ga, gb), n)),
            |x, y| node_changes(ga, x, gb, y),
        ),
        edges: edge_changes(ga, gb),
        filters: list_changes(
            &a.filters
                .iter()
                .map(|f| filter_text(ga, f))
                .collect::<Vec<_>>(),
            &b.filters
                .iter()
                .map(|f| filter_text(gb, f))
                .collect::<Vec<_>>(),
        ),
        objectives: list_changes(
            &a.objectives
                .iter()
                .map(|o| objective_text(ga, o))
                .collect::<Vec<_>>(),
            &b.objectives
                .iter()
                .map(|o| objective_text(gb, o))
                .collect::<Vec<_>>(),
        ),
    }
}

fn pick<'g>(side: Side, a: &'g RewardGraph, b: &'g RewardGraph) -> &'g RewardGraph {
    match side {
        Side::A => a,
        Side::B => b,
    }
}

fn branch_text(g: &RewardGraph, b: &BranchDef) -> String {
    let mut args = format!("prompt = {}", g.node(b.prompt).name);
    if !b.args.is_empty() {
        args.push_str(", ");
        args.push_str(&args_text(&b.args));
    }
    format!("branch {} = rollout({args})", b.name)
}

/// A node's expression, and its fallback after `else`, in recipe syntax.
fn definition(g: &RewardGraph, n: &Node) -> String {
    let mut s = dump::expr(g, &n.expr);
    if let Some(f) = &n.fallback {
        s.push_str(" else ");
        s.push_str(&dump::expr(g, f));
    }
    s
}

fn node_changes(ga: &RewardGraph, a: &Node, gb: &RewardGraph, b: &Node) -> Option<NodeChanges> {
    let (da, db) = (definition(ga, a), definition(gb, b));
    let mut c = NodeChanges::default();
    if da != db {
        let mut consts = Vec::new();
        let same_shape = same_shape(ga, &a.expr, gb, &b.expr, &mut consts)
            && match (&a.fallback, &b.fallback) {
                (Some(x), Some(y)) => same_shape(ga, x, gb, y, &mut consts),
                (None, None) => true,
                _ => false,
            };
        if same_shape {
            c.constants = consts;
        }
        c.definition = Some((da, db));
    }
    c.ty = changed(a.ty, b.ty);
    if a.rollouts != b.rollouts {
        c.rollouts = Some((a.rollouts.clone(), b.rollouts.clone()));
    }
    (c != NodeChanges::default()).then_some(c)
}

/// Whether two expressions are the same tree up to constants; collects the
/// constants that differ.
fn same_shape(
    ga: &RewardGraph,
    a: &Expr,
    gb: &RewardGraph,
    b: &Expr,
    out: &mut Vec<(Const, Const)>,
) -> bool {
    match (&a.kind, &b.kind) {
        (ExprKind::Const(x), ExprKind::Const(y)) => {
            if x != y {
                out.push((x.clone(), y.clone()));
            }
            true
        }
        (ExprKind::Node(x), ExprKind::Node(y)) => ga.node(*x).name == gb.node(*y).name,
        (ExprKind::Context(x), ExprKind::Context(y)) => x == y,
        (
            ExprKind::BranchContext { branch, name },
            ExprKind::BranchContext {
                branch: b2,
                name: n2,
            },
        ) => branch == b2 && name == n2,
        (ExprKind::Sample(x), ExprKind::Sample(y)) => x == y,
        (ExprKind::SampleRecord, ExprKind::SampleRecord) => true,
        (
            ExprKind::Call {
                builtin,
                args,
                partition,
            },
            ExprKind::Call {
                builtin: b2,
                args: a2,
                partition: p2,
            },
        ) => {
            if builtin != b2 || args.len() != a2.len() {
                return false;
            }
            for ((n1, x), (n2, y)) in args.iter().zip(a2) {
                if n1 != n2 {
                    return false;
                }
                let ok = match (x, y) {
                    (Arg::Signal(x), Arg::Signal(y)) => same_shape(ga, x, gb, y, out),
                    (Arg::Const(x), Arg::Const(y)) => {
                        if x != y {
                            out.push((x.clone(), y.clone()));
                        }
                        true
                    }
                    _ => false,
                };
                if !ok {
                    return false;
                }
            }
            match (partition, p2) {
                (Some(x), Some(y)) => same_shape(ga, x, gb, y, out),
                (None, None) => true,
                _ => false,
            }
        }
        (ExprKind::Unary(o1, x), ExprKind::Unary(o2, y)) => {
            o1 == o2 && same_shape(ga, x, gb, y, out)
        }
        (ExprKind::Binary(o1, x1, y1), ExprKind::Binary(o2, x2, y2)) => {
            o1 == o2 && same_shape(ga, x1, gb, x2, out) && same_shape(ga, y1, gb, y2, out)
        }
        (ExprKind::If(c1, x1, y1), ExprKind::If(c2, x2, y2))
        | (ExprKind::When(c1, x1, y1), ExprKind::When(c2, x2, y2)) => {
            same_shape(ga, c1, gb, c2, out)
                && same_shape(ga, x1, gb, x2, out)
                && same_shape(ga, y1, gb, y2, out)
        }
        _ => false,
    }
}

/// The graph's edges by node names, ordered by the reading node, then the node read
/// (both in the graph's source order), without duplicates.
fn edges(g: &RewardGraph) -> Vec<Edge> {
    let mut ids: Vec<(u32, u32)> = g
        .dag
        .edge_indices()
        .filter_map(|e| g.dag.edge_endpoints(e))
        .map(|(x, y)| (g.dag[y].0, g.dag[x].0))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|(to, from)| Edge {
            from: g.nodes[from as usize].name.clone(),
            to: g.nodes[to as usize].name.clone(),
        })
        .collect()
}

fn edge_changes(ga: &RewardGraph, gb: &RewardGraph) -> Vec<Change<Edge>> {
    let (ea, eb) = (edges(ga), edges(gb));
    let (sa, sb): (BTreeSet<&Edge>, BTreeSet<&Edge>) = (ea.iter().collect(), eb.iter().collect());
    let removed = ea
        .iter()
        .filter(|e| !sb.contains(e))
        .map(|e| Change::Removed(e.clone()));
    let added = eb
        .iter()
        .filter(|e| !sa.contains(e))
        .map(|e| Change::Added(e.clone()));
    removed.chain(added).collect()
}

/// Statements compared as multisets: removed ones (A's order), then added ones (B's order).
fn list_changes(a: &[String], b: &[String]) -> Vec<Change<String>> {
    let mut left: Vec<Option<&String>> = b.iter().map(Some).collect();
    let mut removed = Vec::new();
    for x in a {
        match left.iter_mut().find(|y| y.is_some_and(|y| y == x)) {
            Some(slot) => *slot = None,
            None => removed.push(Change::Removed(x.clone())),
        }
    }
    removed
        .into_iter()
        .chain(left.into_iter().flatten().map(|y| Change::Added(y.clone())))
        .collect()
}

fn filter_text(g: &RewardGraph, f: &crate::ir::FilterDef) -> String {
    let mut s = format!("{} when {}", f.kind.keyword(), g.node(f.cond).name);
    if let Some(u) = f.unless {
        s.push_str(&format!(" unless {}", g.node(u).name));
    }
    s
}

fn objective_text(g: &RewardGraph, o: &crate::ir::Objective) -> String {
    let mut s = format!("optimize {}", g.node(o.target).name);
    if let Some(b) = &o.branch {
        s.push_str(&format!(" on {b}"));
    }
    if let Some(x) = o.scale {
        s.push_str(&format!(" scaled by {}", g.node(x).name));
    }
    if let Some(w) = o.weight {
        s.push_str(&format!(" weight {}", g.node(w).name));
    }
    if let Some(m) = o.r#where {
        s.push_str(&format!(" where {}", g.node(m).name));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"recipe "gate" { seed = 1 }
model policy = gpt(layers = 2, width = 64, heads = 2)
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  lr = 1e-4
  reward {
    outcome = exact(answer, sample.answer)
    form    = matches(text, "^[0-9]+$")
    gated   = if outcome >= 0.5 then outcome + form else 0
  }
  optimize gated
}
"#;

    fn program(text: &str) -> Program {
        let c = crate::compile("t.rlr", text, &mut crate::NoImports);
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        c.program.expect("compiles")
    }

    fn report(a: &str, b: &str) -> String {
        diff(&program(a), &program(b)).to_string()
    }

    #[test]
    fn diff_of_equal_programs_is_empty() {
        let d = diff(&program(A), &program(A));
        assert!(d.is_empty());
        assert_eq!(d.len(), 0);
        assert_eq!(d.to_string(), "no semantic differences\n");
    }

    #[test]
    fn diff_ignores_comments_and_formatting() {
        let b = r#"# A comment.
recipe "gate" {
  seed = 1   # the seed
}

task  train  = arith(max = 9)
model policy = gpt(layers=2, width=64, heads=2)

stage rl = grpo(policy, train, lr = 0.0001) {
  reward {
    form = matches(text, "^[0-9]+$")      # moved up
    outcome = exact(answer,
                    sample.answer)
    gated = if outcome >= 0.5 then (outcome + form) else 0.0
  }
  optimize gated
}
"#;
        assert_eq!(report(A, b), "no semantic differences\n");
    }

    #[test]
    fn diff_of_a_threshold_and_an_added_node() {
        let b = A
            .replace(">= 0.5", ">= 0.7")
            .replace("else 0\n", "else 0\n    bonus   = 0.1 * form\n");
        let d = diff(&program(A), &program(b.as_str()));
        assert_eq!(
            d.to_string(),
            "~ stage rl: node gated: if outcome >= 0.5 then outcome + form else 0.0 → \
             if outcome >= 0.7 then outcome + form else 0.0 (0.5 → 0.7)\n\
             + stage rl: node bonus = 0.1 * form\n\
             + stage rl: edge form -> bonus\n"
        );
        let Item::Changed { changes, .. } = &d.stages[0] else {
            panic!("{d:?}")
        };
        assert_eq!(changes.nodes.len(), 2);
        let Item::Changed { name, changes: n } = &changes.nodes[0] else {
            panic!("{d:?}")
        };
        assert_eq!(name, "gated");
        assert_eq!(n.constants, vec![(Const::Real(0.5), Const::Real(0.7))]);
        assert_eq!(n.ty, None);
    }

    #[test]
    fn diff_renders_each_side_with_its_own_graph() {
        // `total` reads `bonus`, which only B has: B's node ids must name B's nodes.
        let b = A
            .replace(
                "else 0\n",
                "else 0\n    bonus   = 0.1 * form\n    total   = gated + bonus\n",
            )
            .replace("optimize gated", "optimize total");
        let forward = "+ stage rl: node bonus = 0.1 * form\n\
             + stage rl: node total = gated + bonus\n\
             + stage rl: edge form -> bonus\n\
             + stage rl: edge gated -> total\n\
             + stage rl: edge bonus -> total\n\
             - stage rl: optimize gated\n\
             + stage rl: optimize total\n";
        assert_eq!(report(A, &b), forward);
        let backward = "- stage rl: node bonus = 0.1 * form\n\
             - stage rl: node total = gated + bonus\n\
             - stage rl: edge form -> bonus\n\
             - stage rl: edge gated -> total\n\
             - stage rl: edge bonus -> total\n\
             - stage rl: optimize total\n\
             + stage rl: optimize gated\n";
        assert_eq!(report(&b, A), backward);
    }

    #[test]
    fn diff_of_a_where_mask() {
        let b = A.replace("optimize gated", "optimize gated where outcome >= 0.5");
        assert_eq!(
            report(A, &b),
            "+ stage rl: node optimize.where = outcome >= 0.5\n\
             + stage rl: edge outcome -> optimize.where\n\
             - stage rl: optimize gated\n\
             + stage rl: optimize gated where optimize.where\n"
        );
    }

    #[test]
    fn diff_of_a_setting_and_a_changed_reference() {
        let b = A
            .replace("lr = 1e-4", "lr = 2e-5\n  group = 16")
            .replace("then outcome + form", "then outcome");
        assert_eq!(
            report(A, &b),
            "~ stage rl: setting group: 8 → 16\n\
             ~ stage rl: setting lr: 0.0001 → 2e-5\n\
             ~ stage rl: node gated: if outcome >= 0.5 then outcome + form else 0.0 → \
             if outcome >= 0.5 then outcome else 0.0\n\
             - stage rl: edge form -> gated\n"
        );
    }

    #[test]
    fn diff_of_a_declaration_argument_and_metadata() {
        let b = A
            .replace("width = 64", "width = 128")
            .replace("seed = 1", "seed = 2, paper = \"x\"");
        assert_eq!(
            report(A, &b),
            "~ recipe paper: \"\" → \"x\"\n\
             ~ recipe seed: 1 → 2\n\
             ~ model policy: width: 64 → 128\n"
        );
    }

    #[test]
    fn diff_of_stage_kind_stages_and_statements() {
        let b = A.replace("grpo(policy, train)", "dapo(policy, train)");
        let r = report(A, &b);
        assert!(r.starts_with("~ stage rl: kind grpo → dapo\n"), "{r}");
        // The defaults that differ between the two kinds are listed.
        assert!(r.contains("~ stage rl: setting clip: (0.2, 0.2) → "), "{r}");
        let b = format!(
            "{}stage more = sft(policy, train, steps = 10)\n",
            A.replace(
                "optimize gated",
                "drop when all(outcome >= 0.9)\n  optimize gated"
            )
        );
        assert_eq!(
            report(A, &b),
            "+ stage rl: node drop = all(outcome >= 0.9, over = \"next\")\n\
             + stage rl: edge outcome -> drop\n\
             + stage rl: drop when drop\n\
             + stage more = sft(model = policy, task = train)\n"
        );
        assert_eq!(
            report(&b, A),
            "- stage more = sft(model = policy, task = train)\n\
             - stage rl: node drop = all(outcome >= 0.9, over = \"next\")\n\
             - stage rl: edge outcome -> drop\n\
             - stage rl: drop when drop\n"
        );
        // Stages run in order, so swapping two is a difference.
        let (first, second) = A.split_at(A.find("stage rl").expect("stage"));
        let warm = "stage warm = sft(policy, train, steps = 10)\n";
        assert_eq!(
            report(&format!("{first}{warm}{second}"), &format!("{A}{warm}")),
            "~ stage order: warm, rl → rl, warm\n"
        );
    }
}
