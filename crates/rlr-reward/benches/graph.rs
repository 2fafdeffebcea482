//! Reward-graph throughput: `cargo bench -p rlr-reward`.
//!
//! Evaluates SophiaVL-R1's graph (recipes/sophiavl_r1.rlr) on 1M rollouts in
//! groups of 8, one thread, and reports rollouts per second for the whole
//! graph, for its text verifiers and judges, and for the arithmetic rest
//! (partitioned means, trust weight, anneal, combination, advantages).

use std::path::Path;
use std::time::Instant;

use rlr_lang::registry::Family;
use rlr_reward::eval::{Options, evaluate};
use rlr_reward::{Batch, Group, Rollout, State};

struct Files;

impl rlr_lang::Loader for Files {
    fn load(&mut self, from: &str, path: &str) -> Result<(String, String), String> {
        let p = Path::new(from).parent().unwrap_or(Path::new("")).join(path);
        std::fs::read_to_string(&p)
            .map(|t| (p.to_string_lossy().into_owned(), t))
            .map_err(|e| e.to_string())
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("recipes/sophiavl_r1.rlr");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let c = rlr_lang::compile(&path.to_string_lossy(), &text, &mut Files);
    let Some(program) = c.program else {
        eprintln!("sophiavl_r1.rlr does not compile: {:?}", c.diagnostics);
        std::process::exit(1);
    };
    let Some(stage) = program.stages.iter().find(|s| s.name == "rl") else {
        return;
    };
    let groups = std::env::var("RLR_BENCH_GROUPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(125_000usize);
    let batch = Batch {
        step: 10,
        steps: 300,
        groups: (0..groups)
            .map(|g| {
                let a = g % 50;
                let b = (g * 7) % 40;
                let answer = a + b;
                Group {
                    sample: serde_json::json!({"answer": answer.to_string(), "steps": format!("{a}+{b}={answer}")})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    rollouts: (0..8)
                        .map(|i| {
                            let said = if (g + i) % 3 == 0 { answer + 1 } else { answer };
                            Rollout::from_text(&format!("<think>{a}+{b}={said}</think> \\boxed{{{said}}}"))
                        })
                        .collect(),
                    branches: Default::default(),
                }
            })
            .collect(),
    };
    let rollouts = groups * 8;
    let tokens: usize = batch
        .groups
        .iter()
        .flat_map(|g| g.rollouts.iter().map(Rollout::token_count))
        .sum();
    let mut best = f64::MAX;
    let mut split = (0.0, 0.0, 0.0);
    for _ in 0..3 {
        let mut state = State::default();
        let started = Instant::now();
        let ev = match evaluate(
            stage,
            &batch,
            &mut state,
            &Options {
                seed: 1,
                probes: None,
                before_rollout: false,
            },
        ) {
            Ok(ev) => ev,
            Err(e) => {
                eprintln!("evaluation failed: {e}");
                std::process::exit(1);
            }
        };
        let total = started.elapsed().as_secs_f64();
        if total < best {
            best = total;
            // Text work: verifiers, judges and the text context names (answer extraction...).
            let mut text_time = 0.0;
            let mut signal_time = 0.0;
            for (name, t) in &ev.call_timings {
                let family = rlr_lang::registry::lookup(name).map(|b| b.category);
                match family {
                    Some(rlr_lang::registry::Category::Node(Family::Verify | Family::Judge)) => {
                        text_time += t.as_secs_f64()
                    }
                    Some(_) => {}
                    // Objectives and metrics: advantages, masks and statistics over every token.
                    None if name.starts_with('(') => signal_time += t.as_secs_f64(),
                    // Context names: text, answer extraction.
                    None => text_time += t.as_secs_f64(),
                }
            }
            split = (text_time, total - text_time - signal_time, signal_time);
            if std::env::var_os("RLR_BENCH_DETAIL").is_some() {
                for (name, t) in &ev.call_timings {
                    eprintln!("  {name:<24} {:.3} s", t.as_secs_f64());
                }
                for (node, t) in stage.graph.nodes.iter().zip(&ev.timings) {
                    eprintln!("  node {:<19} {:.3} s", node.name, t.as_secs_f64());
                }
            }
        }
    }
    println!("SophiaVL-R1 graph, {rollouts} rollouts in groups of 8, one thread:");
    println!(
        "  everything                 {:>8.3} s  {:>12.0} rollouts/s",
        best,
        rollouts as f64 / best
    );
    println!(
        "  text verifiers and judges  {:>8.3} s  {:>12.0} rollouts/s",
        split.0,
        rollouts as f64 / split.0
    );
    println!(
        "  arithmetic of the graph    {:>8.3} s  {:>12.0} rollouts/s",
        split.1,
        rollouts as f64 / split.1
    );
    println!(
        "  advantages, masks, metrics {:>8.3} s  {:>12.0} rollouts/s ({} tokens)",
        split.2,
        rollouts as f64 / split.2,
        tokens
    );
}
