//! Rewards from the model's own log-probabilities: FLR's follow-up
//! likelihoods, SAR's perplexity drop, the listener's confidence. `rlr
//! replay` has no model, so these replay in-process with [`Fake`] answering
//! the probes; each test asks it the requests the recipe's formula
//! describes, so a wrong context, continuation or model shows.

use super::*;

#[test]
fn flr_scores_positive_against_negative_follow_ups_under_the_reference() {
    let rows = Replay::new("recipes/flr.rlr", answer).probes(&Fake).run();
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let positive = [
        " Thanks, that's right.",
        " Great, that is correct!",
        " Perfect, thank you.",
    ];
    let negative = [
        " That's wrong.",
        " No, that is not correct.",
        " That doesn't answer my question.",
    ];
    for g in groups.values() {
        let mut totals = Vec::new();
        for r in g {
            let prompt = r.sample["prompt"].as_str().unwrap_or("");
            // log P(f | x, y): the mean token log-probability of the
            // follow-up after the prompt and the response, by the frozen reference.
            let lp = |f: &str| Fake::mean_logprob(prompt, &r.text, f, true);
            for (k, f) in positive.iter().enumerate() {
                assert!(close(r.num(&format!("lp_pos_{}", k + 1)), lp(f)), "{f}");
            }
            let flr = mean(&positive.map(lp)) - mean(&negative.map(lp));
            assert!(close(r.num("flr"), flr));
            let accuracy = unit(exact(answer_of(&r.text).as_deref(), &answer(&r.sample)));
            let total = 0.5 * flr + accuracy;
            assert!(close(r.num("total"), total), "{:?}", r.values);
            totals.push(total);
        }
        assert_eq!(g[0].num("accuracy"), 1.0, "the planted answer is right");
        for (r, a) in g.iter().zip(z_scores(&totals)) {
            assert_advantage(r, "total", a);
        }
    }
}

#[test]
fn sar_adds_the_relative_perplexity_drop_the_question_brings() {
    let rows = Replay::new("recipes/sar.rlr", boxed).probes(&Fake).run();
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    let mut clipped = [0, 0];
    for g in groups.values() {
        let mut totals = Vec::new();
        for r in g {
            let prompt = r.sample["prompt"].as_str().unwrap_or("");
            // ppl(a) without the query, ppl(a|q) after it, both by the policy.
            let ppl_a = (-Fake::mean_logprob("", "", &r.text, false)).exp();
            let ppl_aq = (-Fake::mean_logprob(prompt, "", &r.text, false)).exp();
            assert!((r.num("ppl_a") / ppl_a - 1.0).abs() < 1e-9);
            assert!((r.num("ppl_aq") / ppl_aq - 1.0).abs() < 1e-9);
            let drop = (ppl_a - ppl_aq) / ppl_a;
            clipped[usize::from(drop < -1.0)] += 1;
            let r_sa = drop.max(-1.0);
            assert!(close(r.num("r_sa"), r_sa), "{drop}");
            let accuracy = unit(math_equal(
                answer_of(&r.text).as_deref(),
                &answer(&r.sample),
            ));
            let total = accuracy + 0.2 * r_sa;
            assert!(close(r.num("total"), total));
            totals.push(total);
        }
        assert_eq!(g[0].num("accuracy"), 1.0, "the planted answer is right");
        // Dr.GRPO's advantage: centred, not divided by the std.
        let m = mean(&totals);
        for (r, t) in g.iter().zip(&totals) {
            assert_advantage(r, "total", t - m);
        }
    }
    assert!(
        clipped[0] > 0 && clipped[1] > 0,
        "drops above and below −1: {clipped:?}"
    );
}

/// The text with its `\boxed{}` groups and `<answer>` blocks removed.
fn hide_answer(text: &str) -> String {
    let mut t = text.to_string();
    for (open, close) in [("\\boxed{", "}"), ("<answer>", "</answer>")] {
        while let Some(i) = t.find(open) {
            match t[i..].find(close) {
                Some(j) => t = format!("{}{}", &t[..i], &t[i + j + close.len()..]),
                None => t.truncate(i),
            }
        }
    }
    t
}

#[test]
fn listener_adds_the_references_confidence_in_the_hidden_answer() {
    let rows = Replay::new("recipes/listener.rlr", boxed)
        .probes(&Fake)
        .run();
    let groups = groups(&rows);
    assert!(groups.len() >= 2);
    for g in groups.values() {
        let mut totals = Vec::new();
        for r in g {
            let prompt = r.sample["prompt"].as_str().unwrap_or("");
            // The reasoning up to its last `\boxed{`, whatever follows
            // hidden; a response without one gets the slot appended.
            let context = match r.text.rfind("\\boxed{") {
                Some(i) => r.text[..i + "\\boxed{".len()].to_string(),
                None => hide_answer(&r.text) + "\\boxed{",
            };
            let listener = Fake::mean_logprob(prompt, &context, &answer(&r.sample), true).exp();
            assert!(close(r.num("listener"), listener), "{:?}", r.text);
            let accuracy = unit(math_equal(
                answer_of(&r.text).as_deref(),
                &answer(&r.sample),
            ));
            let form = r.text.find("<think>").is_some_and(|i| {
                let rest = &r.text[i..];
                rest.find("</think>")
                    .and_then(|j| rest[j..].find("\\boxed{"))
                    .is_some()
            });
            let total = accuracy + 0.1 * unit(form) + 0.5 * listener;
            assert!(close(r.num("total"), total), "{:?}", r.values);
            totals.push(total);
        }
        // The planted answer is right and boxed: the listener reads up to
        // the box, not the answer in it.
        let planted = g[0];
        assert_eq!(planted.num("accuracy"), 1.0);
        assert_eq!(planted.num("form"), 1.0);
        let whole = Fake::mean_logprob(
            planted.sample["prompt"].as_str().unwrap_or(""),
            &planted.text,
            &answer(&planted.sample),
            true,
        )
        .exp();
        assert!(!close(planted.num("listener"), whole));
        for (r, a) in g.iter().zip(z_scores(&totals)) {
            assert_advantage(r, "total", a);
        }
    }
}
