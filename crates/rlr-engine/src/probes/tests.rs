use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rlr_reward::{ProbeRequest, Probes};

use super::ModelProbes;
use crate::backend;
use crate::model::GptSpec;
use crate::policy::Policy;
use crate::sample::{Sampling, generate};
use crate::tokenizer::CharTokenizer;
use crate::vocab::Vocab;

fn model(seed: u64) -> Policy {
    let device = backend::device();
    let m = backend::seeded(&device, seed, |d| {
        GptSpec::tiny(CharTokenizer::VOCAB).init(d)
    });
    Policy::Gpt(burn::module::Module::valid(&m))
}

fn sampling() -> Sampling {
    Sampling {
        temperature: 1.0,
        top_p: 1.0,
        top_k: 0,
        max_tokens: 12,
        stop: Vec::new(),
    }
}

#[test]
fn a_probe_of_the_prompt_then_a_rollout_gives_the_log_probability_it_was_sampled_with() {
    // The split into prompt and context must read the tokens the rollout
    // was sampled after: otherwise a listener or a perplexity reward scores
    // a different text from the one the policy wrote.
    let (policy, vocab, device) = (model(3), Vocab::Char, backend::plain());
    let prompts = ["What is 2+2?", "Name a colour."];
    let ids: Vec<Vec<u32>> = prompts
        .iter()
        .map(|p| vocab.encode_prompt(p))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let gens = generate(&policy, &vocab, &ids, &sampling(), &mut rng, &device)
        .unwrap_or_else(|e| panic!("{e}"));
    let probes = ModelProbes {
        policy: &policy,
        reference: None,
        vocab: &vocab,
        chunk: 1,
        device: &device,
    };
    for (p, g) in prompts.iter().zip(&gens) {
        // The whole response as the continuation, then split after its third character.
        let cut = g
            .text
            .char_indices()
            .nth(3)
            .map_or(g.text.len(), |(i, _)| i);
        let whole = ProbeRequest::new(*p, "", g.text.clone());
        let split = ProbeRequest::new(*p, &g.text[..cut], &g.text[cut..]);
        let got = probes
            .logprob(&[whole, split], false)
            .unwrap_or_else(|e| panic!("{e}"));
        let sampled: f64 = g.logprob.iter().sum();
        let tail: f64 = g.logprob.iter().skip(3).sum();
        assert_eq!(got[0].1, g.tokens.len());
        assert!(
            (got[0].0 - sampled).abs() < 1e-3,
            "{} vs {sampled}",
            got[0].0
        );
        assert!((got[1].0 - tail).abs() < 1e-3, "{} vs {tail}", got[1].0);
    }
}

#[test]
fn the_reference_is_asked_only_when_kept_and_chunks_do_not_change_the_answer() {
    let (policy, other, vocab, device) = (model(3), model(9), Vocab::Char, backend::plain());
    let requests: Vec<ProbeRequest> = (0..5)
        .map(|i| ProbeRequest::new(format!("q{i}"), "so ", "x".repeat(i)))
        .collect();
    let ask = |reference: Option<&Policy>, chunk: usize, from_reference: bool| {
        ModelProbes {
            policy: &policy,
            reference,
            vocab: &vocab,
            chunk,
            device: &device,
        }
        .logprob(&requests, from_reference)
    };
    let one = ask(None, 1, false).unwrap_or_else(|e| panic!("{e}"));
    let all = ask(None, 5, false).unwrap_or_else(|e| panic!("{e}"));
    for (a, b) in one.iter().zip(&all) {
        assert_eq!(a.1, b.1);
        assert!((a.0 - b.0).abs() < 1e-4, "{a:?} vs {b:?}");
    }
    // An empty continuation needs no pass and has log-probability 0.
    assert_eq!(one[0], (0.0, 0));
    assert!(one[1..].iter().all(|&(s, n)| s < 0.0 && n > 0));
    let missing = ask(None, 2, true).err().unwrap_or_default();
    assert!(missing.contains("no reference model"), "{missing}");
    let from_other = ask(Some(&other), 2, true).unwrap_or_else(|e| panic!("{e}"));
    assert!((from_other[4].0 - one[4].0).abs() > 1e-6);
}

#[test]
fn a_long_context_is_cut_from_the_left_and_a_too_long_continuation_is_an_error() {
    let (policy, vocab, device) = (model(3), Vocab::Char, backend::plain());
    let probes = ModelProbes {
        policy: &policy,
        reference: None,
        vocab: &vocab,
        chunk: 2,
        device: &device,
    };
    let context = policy.context();
    let long = ProbeRequest::new("p".repeat(context * 2), "", "ab");
    let got = probes
        .logprob(&[long], false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got[0].1, 2);
    let too_long = ProbeRequest::new("p", "", "a".repeat(context));
    let err = probes.logprob(&[too_long], false).err().unwrap_or_default();
    assert!(err.contains("does not fit the model's context"), "{err}");
}
