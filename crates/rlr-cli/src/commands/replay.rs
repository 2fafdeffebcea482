//! `rlr replay RECIPE --rollouts FILE.jsonl`: re-score logged rollouts with a
//! recipe's reward graph, and with `--against OTHER.rlr` show what a change
//! to the graph does to the same rollouts.

use std::io;
use std::path::Path;

use clap::Args;
use rlr_lang::ir::{Program, Stage};
use rlr_reward::replay::{self, Comparison};

use super::Ctx;
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_OK};

/// Arguments of `rlr replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The recipe whose graph scores the rollouts.
    #[arg(value_name = "RECIPE")]
    pub recipe: String,
    /// The logged rollouts (`rollouts.jsonl`, one rollout per line).
    #[arg(long, value_name = "FILE")]
    pub rollouts: String,
    /// The stage to evaluate (default: the recipe's last stage with rewards).
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Where to write every binding's value, advantages and masks per rollout (JSONL; `-` for stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
    /// A second recipe to compare with on the same rollouts.
    #[arg(long, value_name = "OTHER")]
    pub against: Option<String>,
}

fn pick_stage<'p>(
    ctx: &mut Ctx<'_>,
    p: &'p Program,
    name: Option<&str>,
    recipe: &str,
) -> Option<&'p Stage> {
    let found = match name {
        Some(n) => p.stages.iter().find(|s| s.name == n),
        None => p.stages.iter().rev().find(|s| !s.objectives.is_empty()),
    };
    if found.is_none() {
        let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
        ctx.error(
            &match name {
                Some(n) => format!("{recipe} has no stage `{n}`"),
                None => format!("{recipe} has no stage with rewards"),
            },
            &[format!("its stages: {}", names.join(", "))],
            Some("choose one with `--stage NAME`"),
        );
    }
    found
}

/// Runs `rlr replay`.
pub fn run(ctx: &mut Ctx<'_>, args: &ReplayArgs) -> io::Result<i32> {
    let Some(program) = ctx.compile(&args.recipe).program() else {
        return Ok(EXIT_INPUT);
    };
    let Some(stage) = pick_stage(ctx, &program, args.stage.as_deref(), &args.recipe) else {
        return Ok(EXIT_INPUT);
    };
    let text = match crate::loader::read_text(Path::new(&args.rollouts), &args.rollouts) {
        Ok(t) => t,
        Err(why) => {
            ctx.error(&why, &[], None);
            return Ok(EXIT_INPUT);
        }
    };
    let batches = match replay::read(&text, &stage.name) {
        Ok(b) => b,
        Err(e) => {
            ctx.error(
                &format!("{}:{}: {}", args.rollouts, e.line, e.message),
                &[],
                Some("the schema is in the book's chapter on replay"),
            );
            return Ok(EXIT_INPUT);
        }
    };
    if batches.is_empty() {
        ctx.error(
            &format!(
                "{} has no rollouts of stage `{}`",
                args.rollouts, stage.name
            ),
            &[],
            Some("check the `stage` field of its lines, or pass `--stage`"),
        );
        return Ok(EXIT_INPUT);
    }
    let a = match replay::replay(stage, &batches, program.seed()) {
        Ok(a) => a,
        Err(e) => {
            ctx.error(&format!("evaluating {}: {e}", args.recipe), &[], None);
            return Ok(EXIT_FAILED);
        }
    };
    if let Some(out) = &args.out {
        let mut lines = String::new();
        for (batch, ev) in &a {
            for row in replay::scored(stage, batch, ev) {
                lines.push_str(&serde_json::to_string(&row).unwrap_or_default());
                lines.push('\n');
            }
        }
        if out == "-" {
            ctx.out(&lines)?;
        } else if let Err(e) = std::fs::write(out, lines) {
            ctx.error(&format!("cannot write {out}: {e}"), &[], None);
            return Ok(EXIT_FAILED);
        }
    }
    let rollouts: usize = batches
        .iter()
        .map(|b| b.groups.iter().map(|g| g.rollouts.len()).sum::<usize>())
        .sum();
    ctx.status(&format!(
        "replayed {} steps, {rollouts} rollouts of stage `{}`",
        batches.len(),
        stage.name
    ));
    let Some(other) = &args.against else {
        return Ok(EXIT_OK);
    };
    let Some(program_b) = ctx.compile(other).program() else {
        return Ok(EXIT_INPUT);
    };
    let Some(stage_b) = pick_stage(ctx, &program_b, Some(&stage.name), other) else {
        return Ok(EXIT_INPUT);
    };
    let b = match replay::replay(stage_b, &batches, program_b.seed()) {
        Ok(b) => b,
        Err(e) => {
            ctx.error(&format!("evaluating {other}: {e}"), &[], None);
            return Ok(EXIT_FAILED);
        }
    };
    let c = replay::compare(stage, &a, stage_b, &b);
    ctx.out(&report(&c, &args.recipe, other))?;
    Ok(EXIT_OK)
}

/// The comparison as text.
pub fn report(c: &Comparison, a: &str, b: &str) -> String {
    let mut out = format!("{a} -> {b}\n");
    if c.removed.is_empty()
        && c.added.is_empty()
        && c.changed.is_empty()
        && c.sign_flips.is_empty()
        && c.filters.is_empty()
    {
        out.push_str("no differences on these rollouts\n");
        return out;
    }
    for n in &c.removed {
        out.push_str(&format!("  removed binding {n}\n"));
    }
    for n in &c.added {
        out.push_str(&format!("  added binding   {n}\n"));
    }
    for (n, d) in &c.changed {
        out.push_str(&format!(
            "  changed {n}: {} of {} values, mean |Δ| {:.6}, max |Δ| {:.6}\n",
            d.changed, d.entries, d.mean_abs, d.max_abs
        ));
    }
    if !c.sign_flips.is_empty() {
        out.push_str(&format!(
            "  advantage sign flipped for {} rollouts:\n",
            c.sign_flips.len()
        ));
        for (step, g, i, branch) in c.sign_flips.iter().take(20) {
            let on = branch
                .as_ref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default();
            out.push_str(&format!("    step {step} group {g} rollout {i}{on}\n"));
        }
        if c.sign_flips.len() > 20 {
            out.push_str(&format!("    … and {} more\n", c.sign_flips.len() - 20));
        }
    }
    for (step, g, kind, before, after) in &c.filters {
        out.push_str(&format!(
            "  {kind} decision changed: step {step} group {g}: {before} -> {after}\n"
        ));
    }
    out
}
