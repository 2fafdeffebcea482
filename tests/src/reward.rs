//! The method recipes' graphs replayed on fixture rollouts, each checked
//! against an independent implementation of the formulas of methods.md
//! (written here from the formulas, not from the runtime's code).

use std::path::Path;

use rlr_lang::ir::{Program, Stage};
use rlr_reward::eval::{Evaluation, Options, evaluate};
use rlr_reward::{Batch, Group, Rollout, State};

fn program(recipe: &str) -> Program {
    let c = rlr_tests::compile_file(&rlr_tests::root().join(recipe));
    match c.program {
        Some(p) => p,
        None => panic!("{recipe}:\n{}", rlr_tests::render(&c)),
    }
}

fn stage<'p>(p: &'p Program, name: &str) -> &'p Stage {
    p.stages.iter().find(|s| s.name == name).expect("stage")
}

fn batches(file: &str, stage: &str) -> Vec<Batch> {
    let text = std::fs::read_to_string(
        rlr_tests::root().join(Path::new("tests/fixtures/rollouts").join(file)),
    )
    .expect("fixture");
    rlr_reward::replay::read(&text, stage).expect("fixture parses")
}

fn eval(stage: &Stage, batch: &Batch, seed: u64) -> Evaluation {
    let mut b = batch.clone();
    b.steps = stage
        .settings
        .get("steps")
        .and_then(|c| c.as_f64())
        .unwrap_or(1.0) as u64;
    match evaluate(
        stage,
        &b,
        &mut State::default(),
        &Options {
            seed,
            probes: None,
            before_rollout: false,
        },
    ) {
        Ok(ev) => ev,
        Err(e) => panic!("evaluation failed: {e}"),
    }
}

fn reals(stage: &Stage, ev: &Evaluation, name: &str) -> Vec<f64> {
    let id = stage
        .graph
        .find(name)
        .unwrap_or_else(|| panic!("no binding `{name}`"));
    let v = ev.values[id.0 as usize]
        .as_ref()
        .unwrap_or_else(|| panic!("`{name}` not computed"));
    v.reals()
        .map(|r| r.into_owned())
        .unwrap_or_else(|| panic!("`{name}` is not numeric"))
}

fn close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths {a:?} vs {b:?}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() < 1e-9,
            "{what}[{i}]: runtime {x} vs formula {y} (all: {a:?} vs {b:?})"
        );
    }
}

/// GRPO advantage of each response: (r - mean_G) / (std_G + 1e-6), Bessel std; group of one: (r - 0) / 1.
fn grpo(groups: &[Vec<f64>]) -> Vec<f64> {
    let mut out = Vec::new();
    for g in groups {
        let n = g.len() as f64;
        if g.len() == 1 {
            out.push(g[0]);
            continue;
        }
        let mean = g.iter().sum::<f64>() / n;
        let std = (g.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        out.extend(g.iter().map(|x| (x - mean) / (std + 1e-6)));
    }
    out
}

/// Each response's advantage at its first token, from an objective's token advantages.
fn per_response(ev: &Evaluation, objective: usize) -> Vec<f64> {
    let o = &ev.objectives[objective];
    let layout = &ev.layouts[&o.set];
    (0..layout.responses())
        .map(|r| {
            layout
                .response_tokens(r)
                .next()
                .map_or(0.0, |t| o.advantages[t])
        })
        .collect()
}

fn split(xs: &[f64], sizes: &[usize]) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    let mut at = 0;
    for s in sizes {
        out.push(xs[at..at + s].to_vec());
        at += s;
    }
    out
}

#[test]
fn sophiavl_r1_trust_and_anneal() {
    // The released code's gate: the judge is asked only where outcome >= 0.2
    // (the recipe's default, `judge_from = 0`, is the paper's: every response).
    let path = rlr_tests::root().join("recipes/sophiavl_r1.rlr");
    let text = std::fs::read_to_string(&path).expect("the recipe");
    let text = rlr_lang::overrides::apply(&text, &[("rl.judge_from".into(), "0.2".into())])
        .expect("an override");
    let c = rlr_tests::compile_text("recipes/sophiavl_r1.rlr", &text);
    let Some(p) = c.program.clone() else {
        panic!("{}", rlr_tests::render(&c))
    };
    let s = stage(&p, "rl");
    let b = &batches("sophiavl_r1.jsonl", "rl")[0];
    let ev = eval(s, b, p.seed());
    // outcome: the last \boxed{} equals the answer.
    let outcome = reals(s, &ev, "outcome");
    close(
        &outcome,
        &[1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0],
        "outcome",
    );
    let thinking = reals(s, &ev, "thinking");
    // The judge is asked only where outcome >= 0.2 and the group is not degenerate
    // (group 1 is all correct, so nothing is asked there).
    for (i, (o, t)) in outcome.iter().zip(&thinking).enumerate() {
        if *o < 0.2 || i >= 4 {
            assert_eq!(
                *t, 0.0,
                "thinking[{i}] must be 0 where the judge is not asked"
            );
        }
    }
    assert_eq!(
        ev.metrics.nodes["thinking"].calls,
        Some(2),
        "two judge calls (responses 0 and 2)"
    );
    // gamma per group: exp(mean_c - mean_w) when negative, else 1; 1 when a side is empty.
    let mut gamma = Vec::new();
    for g in split(&thinking, &[4, 4])
        .iter()
        .zip(split(&outcome, &[4, 4]))
    {
        let (t, o) = g;
        let c: Vec<f64> = t
            .iter()
            .zip(&o)
            .filter(|(_, o)| **o >= 0.5)
            .map(|(t, _)| *t)
            .collect();
        let w: Vec<f64> = t
            .iter()
            .zip(&o)
            .filter(|(_, o)| **o < 0.5)
            .map(|(t, _)| *t)
            .collect();
        let gap = if c.is_empty() || w.is_empty() {
            0.0
        } else {
            c.iter().sum::<f64>() / c.len() as f64 - w.iter().sum::<f64>() / w.len() as f64
        };
        gamma.push(if gap < 0.0 { gap.exp() } else { 1.0 });
    }
    close(&reals(s, &ev, "gamma"), &gamma, "gamma");
    // alpha = 0.3 exp(-step / T), step 5, T = steps = 200.
    let alpha = 0.3 * (-5.0f64 / 200.0).exp();
    close(&reals(s, &ev, "alpha"), &[alpha], "alpha");
    let total: Vec<f64> = (0..8)
        .map(|i| outcome[i] + gamma[i / 4] * alpha * thinking[i])
        .collect();
    close(&reals(s, &ev, "total"), &total, "total");
    close(
        &per_response(&ev, 0),
        &grpo(&split(&total, &[4, 4])),
        "advantages",
    );
}

#[test]
fn pearl_perception_gate_and_weight() {
    let p = program("recipes/pearl.rlr");
    let s = stage(&p, "rl");
    let b = &batches("pearl.jsonl", "rl")[0];
    let ev = eval(s, b, p.seed());
    // perceived = correct checklist answers / answers produced (PEARL's code), 0 if none.
    let perceived = reals(s, &ev, "perceived");
    close(&perceived, &[1.0, 0.5, 1.0, 0.0, 0.0, 0.0], "perceived");
    let evidence = [2.5 / 3.0, 0.0];
    close(&reals(s, &ev, "evidence"), &evidence, "evidence");
    // outcome = 0.9 accuracy + 0.1 format.
    let outcome = reals(s, &ev, "outcome");
    close(&outcome, &[1.0, 0.1, 0.9, 1.0, 0.1, 1.0], "outcome");
    // halt where evidence <= 0.01 unless the (per-batch) bypass draw.
    let bypass = reals(s, &ev, "halt.unless");
    assert!(!ev.halted[0]);
    assert_eq!(ev.halted[1], bypass[1] == 0.0);
    // Main advantages: GRPO z-score of outcome, scaled by max(evidence, 0.5).
    let z = grpo(&split(&outcome, &[3, 3]));
    let scaled: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(i, a)| a * evidence[i / 3].max(0.5))
        .collect();
    close(&per_response(&ev, 0), &scaled, "main advantages");
    // Probe advantages: GRPO z-score of perceived on the probe rollouts, weight 0.1.
    close(
        &per_response(&ev, 1),
        &grpo(&split(&perceived, &[3, 3])),
        "probe advantages",
    );
    assert!((ev.objectives[1].weight - 0.1).abs() < 1e-12);
    // Halted groups do not train.
    let o = &ev.objectives[0];
    let layout = &ev.layouts[&o.set];
    for r in layout.group(1) {
        for t in layout.response_tokens(r) {
            assert_eq!(o.mask[t], !ev.halted[1]);
        }
    }
}

#[test]
fn atom_searcher_curriculum() {
    let p = program("recipes/atom_searcher.rlr");
    let s = stage(&p, "rl");
    let b = &batches("multihop.jsonl", "rl")[0];
    let ev = eval(s, b, p.seed());
    let f1 = reals(s, &ev, "f1");
    assert_eq!(f1[0], 1.0);
    assert_eq!(f1[1], 0.0);
    assert!(
        (f1[3] - 2.0 / 3.0).abs() < 1e-9,
        "F1 of `Ada` vs `Ada Quill` is 2/3, got {}",
        f1[3]
    );
    // alpha = 0.5 + (0 - 0.5) min(step / T, 1), step 10, T = steps = 40.
    let alpha = 0.5 - 0.5 * (10.0 / 40.0);
    close(&reals(s, &ev, "alpha"), &[alpha], "alpha");
    let atr = reals(s, &ev, "atr");
    let well = reals(s, &ev, "well_formed");
    assert_eq!(well[2], 0.0, "a response without tags is not well formed");
    assert_eq!(atr[2], 0.0, "no atoms: the fallback 0");
    let total: Vec<f64> = (0..4)
        .map(|i| {
            if well[i] == 1.0 {
                alpha * atr[i] + (1.0 - alpha) * f1[i]
            } else {
                -1.0
            }
        })
        .collect();
    close(&reals(s, &ev, "total"), &total, "total");
}

#[test]
fn gra_gates_step_rewards_on_the_outcome() {
    // The recipe's δ = 0.5, and the D-RA baseline δ = 0 set through the
    // binding `delta` (a constant argument of `gra`).
    let path = rlr_tests::root().join("recipes/gra.rlr");
    let text = std::fs::read_to_string(&path).expect("recipe");
    for (sets, delta) in [
        (vec![], 0.5),
        (vec![("rl.delta".to_string(), "0".to_string())], 0.0),
    ] {
        let text = rlr_lang::overrides::apply(&text, &sets).expect("delta is a binding");
        let c = rlr_tests::compile_text("recipes/gra.rlr", &text);
        let Some(p) = c.program else {
            panic!("{}", rlr_tests::render(&c))
        };
        let s = stage(&p, "rl");
        let b = &batches("multihop.jsonl", "rl")[0];
        let ev = eval(s, b, p.seed());
        let outcome = reals(s, &ev, "outcome");
        let step_ok = reals(s, &ev, "step_ok");
        let segs = {
            let id = s.graph.find("step_ok").expect("step_ok");
            ev.values[id.0 as usize]
                .as_ref()
                .and_then(|v| v.segs.clone())
                .expect("segments")
        };
        // R = r_high + sum_t 0.1 r_low_t [r_high >= δ]
        let total: Vec<f64> = (0..4)
            .map(|r| {
                let low: f64 = segs.of(r).map(|k| 0.1 * step_ok[k]).sum();
                outcome[r] + if outcome[r] >= delta { low } else { 0.0 }
            })
            .collect();
        close(&reals(s, &ev, "total"), &total, "total");
        // The fixture has a response under the gate with steps to count, so
        // the two δ give it different totals.
        let shut = (0..4).any(|r| outcome[r] < 0.5 && segs.of(r).any(|k| step_ok[k] > 0.0));
        assert!(shut, "{outcome:?} {step_ok:?}");
    }
}

#[test]
fn toolrl_format_and_correctness() {
    let p = program("recipes/toolrl.rlr");
    let s = stage(&p, "rl");
    let gt = r#"{"name": "get_weather", "parameters": {"city": "Paris", "unit": "C"}}"#;
    let block = format!("<tool_call>\n{gt}\n</tool_call>");
    let sample = serde_json::json!({"prompt": "weather?", "answer": "", "tool_calls": block, "expected": block});
    let call = |json: &str| format!("<think>look it up</think>\n<tool_call>\n{json}\n</tool_call>");
    let texts = [
        call(gt),
        call(r#"{"name": "get_weather", "parameters": {"city": "Paris", "unit": "F"}}"#),
        "<think>no call</think>".to_string(),
        call("{not json"),
    ];
    let batch = Batch {
        step: 1,
        steps: 300,
        groups: vec![Group {
            sample: sample.as_object().cloned().unwrap_or_default(),
            rollouts: texts.iter().map(|t| Rollout::from_text(t)).collect(),
            branches: Default::default(),
        }],
    };
    let ev = eval(s, &batch, p.seed());
    close(&reals(s, &ev, "form"), &[1.0, 1.0, 0.0, 1.0], "format");
    // S = J(names) + J(keys) + exact values = 1 + 1 + 1 = 3 of S_max = 1 + (1 + 2) = 4:
    // R_correct = -3 + 6 * 3/4 = 1.5; identical calls: 3; no call or unparsable: -3.
    close(
        &reals(s, &ev, "correct"),
        &[3.0, 1.5, -3.0, -3.0],
        "correct",
    );
    close(&reals(s, &ev, "total"), &[4.0, 2.5, -3.0, -2.0], "total");
}

#[test]
fn par_against_reference_rollouts() {
    let p = program("recipes/par.rlr");
    let s = stage(&p, "rl");
    let sample = serde_json::json!({"prompt": "2+3=?", "answer": "5"});
    let main = ["\\boxed{5}", "\\boxed{6}", "\\boxed{5} and more words here"];
    let refs = ["\\boxed{5}", "\\boxed{4}"];
    let mut group = Group {
        sample: sample.as_object().cloned().unwrap_or_default(),
        rollouts: main.iter().map(|t| Rollout::from_text(t)).collect(),
        branches: Default::default(),
    };
    group.branches.insert(
        "refs".into(),
        refs.iter().map(|t| Rollout::from_text(t)).collect(),
    );
    let batch = Batch {
        step: 1,
        steps: 300,
        groups: vec![group],
    };
    let ev = eval(s, &batch, p.seed());
    let x = reals(s, &ev, "penalised");
    let r = reals(s, &ev, "ref_score");
    // r_PAR = (1/M) sum_m sigmoid(k (x - ref_m)), k = 1, over the group's references.
    let sig = |z: f64| 1.0 / (1.0 + (-z).exp());
    let expected: Vec<f64> = x
        .iter()
        .map(|xi| r.iter().map(|rm| sig(xi - rm)).sum::<f64>() / r.len() as f64)
        .collect();
    close(&reals(s, &ev, "shaped"), &expected, "PAR");
}

#[test]
fn evol_rl_bands() {
    let p = program("recipes/evol_rl.rlr");
    let s = stage(&p, "rl");
    let sample = serde_json::json!({"prompt": "3+4=?", "answer": "7"});
    let texts = [
        "<think>a</think> so 3 plus 4 is \\boxed{7}",
        "<think>b</think> adding gives \\boxed{7}",
        "<think>c</think> the sum: \\boxed{7} indeed",
        "<think>d</think> I think \\boxed{8}",
        "<think>e</think> no box here",
    ];
    // A disagreeing answer worded like the majority (low novelty) beside an
    // invalid one: the code scales novelty among valid responses only, so
    // the disagreeing answer is alone in its part and still gets -0.5.
    let worded_alike = [
        "<think>a</think> adding gives \\boxed{7}",
        "<think>b</think> adding gives \\boxed{7}",
        "<think>c</think> adding gives \\boxed{8}",
        "<think>e</think> no box here",
    ];
    let group = |texts: &[&str]| Group {
        sample: sample.as_object().cloned().unwrap_or_default(),
        rollouts: texts.iter().map(|t| Rollout::from_text(t)).collect(),
        branches: Default::default(),
    };
    let batch = Batch {
        step: 1,
        steps: 300,
        groups: vec![group(&texts), group(&worded_alike)],
    };
    let ev = eval(s, &batch, p.seed());
    let total = reals(s, &ev, "total");
    assert_eq!(total.len(), 9, "{total:?}");
    assert!(
        (total[7] + 0.5).abs() < 1e-9,
        "a lone valid disagreeing answer, worded like the majority: {}",
        total[7]
    );
    assert_eq!(total[8], -1.0, "invalid answer");
    for (i, t) in total.iter().enumerate().take(3) {
        assert!(
            (0.5..=1.0).contains(t),
            "agreeing answer {i} in [0.5, 1]: {t}"
        );
    }
    // A single disagreeing valid answer: the code gives it -0.5 (band top).
    assert!(
        (total[3] + 0.5).abs() < 1e-9,
        "single disagreeing answer: {}",
        total[3]
    );
    assert_eq!(total[4], -1.0, "invalid answer");
}

#[test]
fn replay_reads_and_locates_errors() {
    let bad = "{\"stage\": \"rl\", \"step\": 1, \"group\": 0, \"text\": \"x\"}\n{\"stage\": \"rl\", \"step\": 1, \"group\": 0}\n";
    let e = rlr_reward::replay::read(bad, "rl").expect_err("line 2 lacks text");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("text"), "{}", e.message);
    let e = rlr_reward::replay::read("not json\n", "rl").expect_err("garbage");
    assert_eq!(e.line, 1);
    // BPE offsets: a token that only begins "é" starts where the next does;
    // offsets that go back, or fall inside a character, are refused.
    let row = |offsets: &str| {
        format!(
            "{{\"stage\": \"rl\", \"step\": 1, \"group\": 0, \"text\": \"café!\", \"tokens\": [1, 2, 3, 4], \"offsets\": {offsets}}}\n"
        )
    };
    let batches = rlr_reward::replay::read(&row("[0, 3, 3, 5]"), "rl").expect("equal offsets");
    let r = &batches[0].groups[0].rollouts[0];
    assert_eq!((r.token_count(), r.token_at(3), r.token_at(5)), (4, 2, 3));
    for bad in ["[0, 3, 2, 5]", "[0, 3, 4, 5]", "[0, 3, 3, 7]"] {
        let e = rlr_reward::replay::read(&row(bad), "rl").expect_err(bad);
        assert!(e.message.contains("offsets"), "{bad}: {}", e.message);
    }
}

#[test]
fn nan_names_binding_rollout_and_inputs() {
    let text = "recipe \"nan\" { seed = 1 }\nmodel policy = gpt(layers = 2, width = 64, heads = 2)\ntask train = arith(max = 9)\nstage rl = grpo(policy, train) {\n  reward {\n    correct = exact(answer, sample.answer)\n    ratio = (correct - correct) / (correct - correct)\n  }\n  optimize ratio\n}\n";
    let c = rlr_lang::compile("nan.rlr", text, &mut rlr_lang::NoImports);
    let p = c.program.expect("compiles");
    let s = &p.stages[0];
    let batch = Batch {
        step: 1,
        steps: 10,
        groups: vec![Group {
            sample: serde_json::json!({"answer": "3"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            rollouts: vec![
                Rollout::from_text("\\boxed{3}"),
                Rollout::from_text("\\boxed{4}"),
            ],
            branches: Default::default(),
        }],
    };
    let err =
        evaluate(s, &batch, &mut State::default(), &Options::default()).expect_err("0/0 is NaN");
    assert_eq!(err.node, "ratio");
    let at = err.at.clone().expect("located");
    assert_eq!((at.group, at.rollout), (0, Some(0)));
    assert!(
        err.inputs.iter().any(|(k, v)| k == "correct" && v == "1"),
        "{err}"
    );
    assert!(err.to_string().contains("NaN"), "{err}");
}

#[test]
fn metrics_cover_every_binding() {
    let p = program("recipes/pearl.rlr");
    let s = stage(&p, "rl");
    let ev = eval(s, &batches("pearl.jsonl", "rl")[0], p.seed());
    let m = &ev.metrics;
    assert!(
        (m.nodes["evidence"].mean.unwrap_or(0.0) - 2.5 / 6.0).abs() < 1e-9,
        "mean of the two groups' evidence"
    );
    assert_eq!(m.nodes["form"].pass_rate, Some(5.0 / 6.0));
    assert_eq!(m.nodes["outcome"].max, Some(1.0));
    assert_eq!(m.zero_variance.len(), 2, "one figure per objective");
    for node in &s.graph.nodes {
        assert!(
            m.nodes.contains_key(&node.name),
            "no metrics for `{}`",
            node.name
        );
    }
}

#[test]
fn halt_is_decided_before_the_main_rollouts() {
    // The engine samples PEARL's probe branch first and decides `halt` from it alone.
    let p = program("recipes/pearl.rlr");
    let s = stage(&p, "rl");
    let mut b = batches("pearl.jsonl", "rl")[0].clone();
    for g in &mut b.groups {
        g.rollouts.clear();
    }
    b.steps = 300;
    let opts = Options {
        seed: p.seed(),
        probes: None,
        before_rollout: true,
    };
    let ev = match evaluate(s, &b, &mut State::default(), &opts) {
        Ok(ev) => ev,
        Err(e) => panic!("{e}"),
    };
    assert!(!ev.halted[0], "group 0 perceived its evidence");
    let id = s.graph.find("evidence").expect("evidence");
    assert!(
        ev.values[id.0 as usize].is_some(),
        "evidence is computed before rollout"
    );
    let id = s.graph.find("accuracy").expect("accuracy");
    assert!(
        ev.values[id.0 as usize].is_none(),
        "main-rollout rewards wait for the main rollouts"
    );
    assert!(ev.objectives.is_empty());
}
