//! Batched sampling with the key/value cache: temperature, top-k, top-p,
//! max tokens, stop strings and EOS, with a seeded host generator so the same
//! seed gives the same tokens. Prompts are left-padded; rotary positions are
//! relative, so padding does not change a row's logits.
//!
//! Multi-turn rollouts with tools: when a token completes a tool's closing
//! tag (`</search>`), the tool runs on what follows the last opening tag and
//! its output is fed back token by token in the same decode loop (marked
//! `tool`, so losses can leave it out), and sampling continues after it.
//!
//! Text comes from the policy's [`Vocab`]: with a BPE vocabulary one token
//! may hold several characters (or part of one), so stop strings and tags
//! are looked for wherever they end inside the newest token's text, and
//! each response records the byte offset where each token starts.

use std::collections::VecDeque;
use std::sync::Arc;

use burn::prelude::*;
use rand::Rng;
use rlr_tasks::Tool;

use crate::kv_cache::KvCache;
use crate::model::attention_mask;
use crate::policy::Policy;
use crate::vocab::Vocab;

/// How to pick each next token.
#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    /// Softmax temperature; 0 means greedy.
    pub temperature: f64,
    /// Nucleus: keep the most likely tokens whose probabilities sum to this (1 = off).
    pub top_p: f64,
    /// Keep only the `top_k` most likely tokens (0 = off).
    pub top_k: usize,
    /// Most tokens generated per response.
    pub max_tokens: usize,
    /// Generation stops after a response ends with one of these (kept in the text).
    pub stop: Vec<String>,
}

impl Sampling {
    /// Greedy decoding of at most `max_tokens`, for evaluation.
    pub fn greedy(max_tokens: usize) -> Sampling {
        Sampling {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            max_tokens,
            stop: Vec::new(),
        }
    }
}

/// The tools a rollout may call, and how many calls it may make.
#[derive(Clone, Default)]
pub struct Tools {
    /// The stage's tools.
    pub tools: Vec<Arc<dyn Tool>>,
    /// Most calls per response (`turns − 1`: each call ends an assistant turn).
    pub calls: usize,
}

impl Tools {
    /// No tools: single-turn rollouts.
    pub fn none() -> Tools {
        Tools::default()
    }

    /// The tool whose closing tag ends after byte `from` of `text` (in the
    /// newest token), with the call's input: what follows the last opening
    /// tag before it.
    fn closed<'t>(&self, text: &'t str, from: usize) -> Option<(&Arc<dyn Tool>, &'t str)> {
        self.tools.iter().find_map(|t| {
            let close = format!("</{}>", t.tag());
            let at = find_ending_after(text, &close, from)?;
            Some((t, call_input(t.as_ref(), &text[..at])?))
        })
    }

    /// Splits a demonstration into the pieces a rollout would have made:
    /// `(text, false)` for what the policy writes and `(output, true)` for
    /// the tools' outputs, found by running each call (up to `calls` of them)
    /// and keeping the output only where the demonstration goes on with it
    /// verbatim. Concatenated, the pieces are `text`.
    pub fn split_demonstration<'t>(&self, text: &'t str) -> Vec<(&'t str, bool)> {
        let mut pieces = Vec::new();
        let (mut start, mut calls) = (0usize, 0usize);
        let mut at = 0usize;
        while calls < self.calls && at < text.len() {
            // The earliest closing tag of any tool at or after `at`.
            let next = self
                .tools
                .iter()
                .filter_map(|t| {
                    let close = format!("</{}>", t.tag());
                    text[at..]
                        .find(close.as_str())
                        .map(|i| (at + i + close.len(), t))
                })
                .min_by_key(|(end, _)| *end);
            let Some((end, tool)) = next else { break };
            let close_len = tool.tag().len() + "</>".len();
            let Some(input) = call_input(tool.as_ref(), &text[start..end - close_len]) else {
                at = end;
                continue;
            };
            let output = tool.call(input);
            calls += 1;
            at = end;
            if !output.is_empty() && text[end..].starts_with(output.as_str()) {
                pieces.push((&text[start..end], false));
                pieces.push((&text[end..end + output.len()], true));
                start = end + output.len();
                at = start;
            }
        }
        if start < text.len() {
            pieces.push((&text[start..], false));
        }
        pieces
    }
}

/// The input of a call whose closing tag ends `body`: what follows the last
/// opening tag of `tool` in it.
fn call_input<'t>(tool: &dyn Tool, body: &'t str) -> Option<&'t str> {
    let open = format!("<{}>", tool.tag());
    let start = body.rfind(open.as_str())?;
    Some(&body[start + open.len()..])
}

/// One sampled response.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Generated {
    /// The response's text (EOS not included).
    pub text: String,
    /// Its token ids (one per character with the character vocabulary).
    pub tokens: Vec<u32>,
    /// Byte offset in `text` where each token starts; empty with the
    /// character vocabulary (one token per character).
    pub offsets: Vec<usize>,
    /// Log-probability of each token under the policy at temperature
    /// (temperature 1 when greedy), before top-k/top-p: what training recomputes.
    pub logprob: Vec<f64>,
    /// Entropy of that distribution at each token.
    pub entropy: Vec<f64>,
    /// Whether each token was inserted from a tool's output (not sampled).
    pub tool: Vec<bool>,
    /// Tool calls made.
    pub calls: usize,
    /// Whether the model ended the response with EOS (then EOS follows `tokens`).
    pub eos: bool,
    /// Whether it stopped at `max_tokens`.
    pub truncated: bool,
}

/// Samples one response per prompt. Each prompt is token ids (from
/// [`Vocab::encode_prompt`]); they are left-padded to the longest. The
/// model should be a non-autodiff copy (`Module::valid`).
pub fn generate(
    model: &Policy,
    vocab: &Vocab,
    prompts: &[Vec<u32>],
    sampling: &Sampling,
    rng: &mut impl Rng,
    device: &Device,
) -> Result<Vec<Generated>, String> {
    generate_with_tools(model, vocab, prompts, sampling, &Tools::none(), rng, device)
}

/// [`generate`], running `tools` where a response calls one.
pub fn generate_with_tools(
    model: &Policy,
    vocab: &Vocab,
    prompts: &[Vec<u32>],
    sampling: &Sampling,
    tools: &Tools,
    rng: &mut impl Rng,
    device: &Device,
) -> Result<Vec<Generated>, String> {
    let batch = prompts.len();
    if batch == 0 {
        return Ok(Vec::new());
    }
    let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
    if longest == 0 {
        return Err("a prompt has no tokens".into());
    }
    let (pad_id, eos) = (vocab.pad(), vocab.eos());
    if longest >= model.context() {
        return Err(format!(
            "a prompt of {longest} tokens does not fit the model's context of {}",
            model.context()
        ));
    }
    let max_new = sampling.max_tokens.min(model.context() - longest);
    if max_new < sampling.max_tokens {
        warn_capped(longest, max_new, sampling.max_tokens, model.context());
    }
    let mut pad: Vec<Vec<bool>> = prompts
        .iter()
        .map(|p| (0..longest).map(|i| i < longest - p.len()).collect())
        .collect();
    let ids: Vec<i64> = prompts
        .iter()
        .flat_map(|p| {
            std::iter::repeat_n(i64::from(pad_id), longest - p.len())
                .chain(p.iter().map(|&t| i64::from(t)))
        })
        .collect();
    let mut out = vec![Generated::default(); batch];
    let mut text: Vec<_> = (0..batch).map(|_| vocab.decoder()).collect();
    let mut done = vec![false; batch];
    // Tool output still to be fed to each row, one token per decode step.
    let mut forced: Vec<VecDeque<u32>> = vec![VecDeque::new(); batch];
    let mut cache = KvCache::default();
    let mut input: Tensor<2, Int> =
        Tensor::from_data(TensorData::new(ids, [batch, longest]), device);
    let mut queries = longest;
    for step in 0..max_new {
        let mask = attention_mask(&pad, queries, device);
        let logits = model.forward(input, mask, Some(&mut cache));
        let width = logits.dims()[2];
        let last: Vec<f32> = logits
            .slice([0..batch, queries - 1..queries, 0..width])
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| format!("reading logits: {e:?}"))?;
        let mut next = vec![i64::from(pad_id); batch];
        for (row, (resp, text)) in out.iter_mut().zip(&mut text).enumerate() {
            if done[row] {
                continue;
            }
            let logits = &last[row * width..(row + 1) * width];
            if let Some(token) = forced[row].pop_front() {
                let (logp, entropy) = distribution(logits, sampling.temperature);
                next[row] = i64::from(token);
                resp.tokens.push(token);
                resp.logprob
                    .push(logp.get(token as usize).copied().unwrap_or(f64::NAN));
                resp.entropy.push(entropy);
                resp.tool.push(true);
                text.push(token)?;
                if step + 1 == max_new {
                    resp.truncated = true;
                }
                continue;
            }
            let pick = choose(logits, sampling, vocab.banned(), rng);
            next[row] = i64::from(pick.token);
            if pick.token == eos {
                resp.eos = true;
                done[row] = true;
                continue;
            }
            resp.tokens.push(pick.token);
            resp.logprob.push(pick.logprob);
            resp.entropy.push(pick.entropy);
            resp.tool.push(false);
            let before = text.text().len();
            text.push(pick.token)?;
            if resp.calls < tools.calls
                && let Some((tool, input)) = tools.closed(text.text(), before)
            {
                forced[row].extend(vocab.encode(&tool.call(input))?);
                resp.calls += 1;
                if step + 1 == max_new {
                    resp.truncated = true;
                }
                continue;
            }
            if sampling
                .stop
                .iter()
                .any(|s| find_ending_after(text.text(), s, before).is_some())
            {
                done[row] = true;
            } else if step + 1 == max_new {
                resp.truncated = true;
            }
        }
        if done.iter().all(|&d| d) && forced.iter().all(VecDeque::is_empty) {
            break;
        }
        for row in &mut pad {
            row.push(false);
        }
        input = Tensor::from_data(TensorData::new(next, [batch, 1]), device);
        queries = 1;
    }
    for (resp, text) in out.iter_mut().zip(text) {
        (resp.text, resp.offsets) = text.finish()?;
    }
    Ok(out)
}

/// Says once per process that the context, not `max_tokens`, bounds the
/// responses: left padding makes every row of a batch spend the longest
/// prompt's positions, so a long prompt shortens every response beside it,
/// and responses cut there lose their end (a refusal its closing tag).
fn warn_capped(longest: usize, max_new: usize, max_tokens: usize, context: usize) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "responses stop at {max_new} tokens, not max_tokens = {max_tokens}: a batch's \
             longest prompt has {longest} tokens and the model's context is {context}; \
             raise the model's `context` to at least {}",
            longest.saturating_add(max_tokens)
        );
    }
}

/// Where the first occurrence of `needle` in `text` that ends after byte
/// `from` starts (what the newest token's text completed). Earlier ones
/// were seen at earlier tokens.
fn find_ending_after(text: &str, needle: &str, from: usize) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    let mut start = from.saturating_sub(needle.len() - 1).min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    text[start..].find(needle).map(|i| start + i)
}

/// The token picked at one position, with its log-probability and the entropy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pick {
    /// The token id.
    pub token: u32,
    /// Its log-probability under the tempered, unfiltered distribution.
    pub logprob: f64,
    /// The entropy of that distribution.
    pub entropy: f64,
}

/// Picks a token from one row of logits, never one of `banned` (PAD and BOS
/// are not text). The log-probability and entropy are still of the full
/// distribution, as training recomputes them.
pub fn choose(logits: &[f32], sampling: &Sampling, banned: &[u32], rng: &mut impl Rng) -> Pick {
    let greedy = sampling.temperature <= 0.0;
    let (logp, entropy) = distribution(logits, sampling.temperature);
    // Ties go to the lowest id, so greedy decoding is deterministic.
    let mut order: Vec<usize> = (0..logp.len())
        .filter(|&i| !banned.contains(&(i as u32)))
        .collect();
    if order.is_empty() {
        order.push(0);
    }
    let argmax = order.iter().copied().fold(
        order[0],
        |best, i| if logp[i] > logp[best] { i } else { best },
    );
    let token = if greedy {
        argmax
    } else {
        order.sort_by(|&a, &b| logp[b].total_cmp(&logp[a]).then(a.cmp(&b)));
        if sampling.top_k > 0 {
            order.truncate(sampling.top_k);
        }
        if sampling.top_p < 1.0 {
            let mut mass = 0.0;
            let mut keep = 0;
            for &i in &order {
                keep += 1;
                mass += logp[i].exp();
                if mass >= sampling.top_p {
                    break;
                }
            }
            order.truncate(keep.max(1));
        }
        let total: f64 = order.iter().map(|&i| logp[i].exp()).sum();
        let mut u = rng.random::<f64>() * total;
        let mut chosen = order[order.len() - 1];
        for &i in &order {
            u -= logp[i].exp();
            if u <= 0.0 {
                chosen = i;
                break;
            }
        }
        chosen
    };
    Pick {
        token: token as u32,
        logprob: logp[token],
        entropy,
    }
}

/// Log-probabilities at `temperature` (1 when greedy) and their entropy.
fn distribution(logits: &[f32], temperature: f64) -> (Vec<f64>, f64) {
    let temperature = if temperature <= 0.0 { 1.0 } else { temperature };
    let scaled: Vec<f64> = logits.iter().map(|&l| f64::from(l) / temperature).collect();
    let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_z = max + scaled.iter().map(|&l| (l - max).exp()).sum::<f64>().ln();
    let logp: Vec<f64> = scaled.iter().map(|&l| l - log_z).collect();
    let entropy = -logp.iter().map(|&lp| lp.exp() * lp).sum::<f64>();
    (logp, entropy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend;
    use crate::model::GptSpec;
    use crate::tokenizer::{BOS, CharTokenizer, EOS, PAD};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sampling() -> Sampling {
        Sampling {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            max_tokens: 8,
            stop: Vec::new(),
        }
    }

    fn prompts() -> Vec<Vec<u32>> {
        let t = CharTokenizer;
        ["What?", "1+1=", "a"]
            .iter()
            .map(|p| std::iter::once(BOS).chain(t.encode(p)).collect())
            .collect()
    }

    fn run(seed: u64, s: &Sampling) -> Vec<Generated> {
        let device = backend::device();
        let model = backend::seeded(&device, seed, |d| {
            GptSpec::tiny(CharTokenizer::VOCAB).init(d)
        });
        let model = Policy::Gpt(burn::module::Module::valid(&model));
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        generate(
            &model,
            &Vocab::Char,
            &prompts(),
            s,
            &mut rng,
            &backend::plain(),
        )
        .unwrap_or_default()
    }

    #[test]
    fn the_same_seed_gives_the_same_tokens_and_statistics_line_up() {
        let a = run(4, &sampling());
        assert_eq!(a, run(4, &sampling()));
        assert_eq!(a.len(), 3);
        for g in &a {
            assert_eq!(g.tokens.len(), g.text.chars().count());
            assert_eq!(g.logprob.len(), g.tokens.len());
            assert_eq!(g.entropy.len(), g.tokens.len());
            assert!(g.logprob.iter().all(|&l| l <= 0.0 && l.is_finite()));
            assert!(g.tokens.len() <= 8);
            assert_eq!(g.truncated, g.tokens.len() == 8 && !g.eos);
        }
    }

    #[test]
    fn greedy_decoding_with_the_cache_matches_picking_the_argmax_of_full_forwards() {
        let seed = 6;
        let device = backend::device();
        let model = backend::seeded(&device, seed, |d| {
            GptSpec::tiny(CharTokenizer::VOCAB).init(d)
        });
        let model = Policy::Gpt(burn::module::Module::valid(&model));
        let plain = backend::plain();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let prompt = prompts()[1].clone();
        let got = generate(
            &model,
            &Vocab::Char,
            std::slice::from_ref(&prompt),
            &Sampling::greedy(6),
            &mut rng,
            &plain,
        )
        .unwrap_or_default();
        // Reference: re-run the whole sequence each step, no cache.
        let mut seq = prompt;
        let mut expected = Vec::new();
        for _ in 0..6 {
            let n = seq.len();
            let ids: Vec<i64> = seq.iter().map(|&t| i64::from(t)).collect();
            let x: Tensor<2, Int> = Tensor::from_data(TensorData::new(ids, [1, n]), &plain);
            let logits = model.forward(x, attention_mask(&[vec![false; n]], n, &plain), None);
            let v = logits.dims()[2];
            let row: Vec<f32> = logits
                .slice([0..1, n - 1..n, 0..v])
                .into_data()
                .convert::<f32>()
                .try_to_vec::<f32>()
                .unwrap_or_default();
            let t = choose(&row, &Sampling::greedy(1), &[PAD, BOS], &mut rng).token;
            if t == EOS {
                break;
            }
            expected.push(t);
            seq.push(t);
        }
        assert_eq!(got[0].tokens, expected);
    }

    #[test]
    fn top_k_one_is_greedy_and_stop_strings_end_the_response() {
        let logits = [0.0f32, 3.0, 1.0, 2.0];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let s = Sampling {
            top_k: 1,
            ..sampling()
        };
        for _ in 0..20 {
            assert_eq!(choose(&logits, &s, &[], &mut rng).token, 1);
        }
        // top_p small keeps only the most likely token too.
        let s = Sampling {
            top_p: 0.1,
            ..sampling()
        };
        assert_eq!(choose(&logits, &s, &[], &mut rng).token, 1);
        // Log-probabilities are of the full distribution, whatever the filter.
        let p = choose(&logits, &s, &[], &mut rng);
        let z: f64 = logits.iter().map(|&l| f64::from(l).exp()).sum();
        assert!((p.logprob - (3.0 - z.ln())).abs() < 1e-9);

        let stop = Sampling {
            stop: vec!["a".into(), "b".into(), "c".into(), "d".into(), "e".into()],
            max_tokens: 30,
            ..sampling()
        };
        for g in run(8, &stop) {
            if !g.eos && !g.truncated && !g.text.is_empty() {
                let last = g.text.chars().last().unwrap_or(' ');
                assert!("abcde".contains(last), "{:?}", g.text);
                assert_eq!(g.text.chars().filter(|c| "abcde".contains(*c)).count(), 1);
            }
        }
    }

    #[test]
    fn stop_strings_and_tags_are_found_where_they_end_in_the_newest_piece() {
        // The newest token wrote bytes 5.. ("</b>\n" as one BPE piece).
        let text = "x <b></b>\n";
        assert_eq!(find_ending_after(text, "</b>", 5), Some(5));
        assert_eq!(find_ending_after(text, "</b>", 6), Some(5));
        // Ended before the newest piece: seen at an earlier token.
        assert_eq!(find_ending_after(text, "</b>", 9), None);
        assert_eq!(find_ending_after(text, "", 0), None);
        // Windows start on character boundaries.
        assert_eq!(find_ending_after("ééx", "éx", 4), Some(2));
        assert_eq!(find_ending_after("ab", "abc", 1), None);
    }

    struct Doubler;

    impl Tool for Doubler {
        fn name(&self) -> &str {
            "double"
        }
        fn tag(&self) -> &str {
            "x"
        }
        fn call(&self, input: &str) -> String {
            let n: i64 = input.trim().parse().unwrap_or(0);
            format!("<r>{}</r>", 2 * n)
        }
    }

    #[test]
    fn a_closed_tool_call_is_found_with_its_input() {
        let tools = Tools {
            tools: vec![Arc::new(Doubler)],
            calls: 1,
        };
        let (t, input) = tools
            .closed("so <x>21</x>", 11)
            .unwrap_or_else(|| panic!("no call"));
        assert_eq!((t.name(), input), ("double", "21"));
        // A tag closed inside the newest token's text (a BPE piece `>.`), and the text after it.
        let (_, input) = tools
            .closed("so <x>21</x>. then", 10)
            .unwrap_or_else(|| panic!("no call"));
        assert_eq!(input, "21");
        // Closed before the newest token: already handled.
        assert!(tools.closed("so <x>21</x> then", 13).is_none());
        assert!(tools.closed("21</x>", 5).is_none());
    }

    #[test]
    fn a_demonstration_splits_into_written_text_and_tool_output() {
        let tools = Tools {
            tools: vec![Arc::new(Doubler)],
            calls: 2,
        };
        let text = "a<x>2</x><r>4</r>b<x>5</x><r>9</r>c<x>1</x><r>2</r>";
        // The first output matches and is marked; the second does not (the
        // demonstration wrote 9, the tool says 10) and stays written text;
        // the third call is past `calls`.
        assert_eq!(
            tools.split_demonstration(text),
            vec![
                ("a<x>2</x>", false),
                ("<r>4</r>", true),
                ("b<x>5</x><r>9</r>c<x>1</x><r>2</r>", false),
            ]
        );
        assert_eq!(
            Tools::none().split_demonstration("plain"),
            vec![("plain", false)]
        );
        assert_eq!(Tools::none().split_demonstration(""), vec![]);
        let one = Tools {
            tools: vec![Arc::new(Doubler)],
            calls: 3,
        };
        // A closing tag without an opening one is no call.
        assert_eq!(
            one.split_demonstration("</x><x>3</x><r>6</r>"),
            vec![("</x><x>3</x>", false), ("<r>6</r>", true)]
        );
    }

    #[test]
    fn tool_output_is_inserted_after_the_call_and_marked() {
        use crate::loss::{sft_loss, token_logprobs};
        use crate::pack::{Sequence, pack};
        use burn::optim::{AdamWConfig, GradientsParams};
        // Overfit a tiny model to answer one prompt with a call, then
        // sample it greedily: the tool's output must follow the call.
        let t = CharTokenizer;
        let device = backend::device();
        let spec = GptSpec {
            context: 48,
            ..GptSpec::tiny(CharTokenizer::VOCAB)
        };
        let mut model = backend::seeded(&device, 3, |d| spec.init(d));
        let prompt: Vec<u32> = std::iter::once(BOS).chain(t.encode("q")).collect();
        let target = t.encode("<x>21</x>.");
        let seq = Sequence {
            prompt: prompt.clone(),
            response: target.clone(),
        };
        let packed = pack(std::slice::from_ref(&seq), &device).unwrap_or_else(|e| panic!("{e}"));
        let mut w = vec![0.0f32; packed.time];
        for x in w.iter_mut().skip(packed.start[0]) {
            *x = 1.0;
        }
        let weights = packed.tensor(w, &device);
        let mut optim = AdamWConfig::new().init();
        for _ in 0..150 {
            let logits = model.forward(packed.inputs.clone(), packed.mask.clone(), None);
            let loss = sft_loss(
                token_logprobs(logits, packed.targets.clone(), 1.0),
                weights.clone(),
            );
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-2, model, grads);
        }
        let policy = Policy::Gpt(burn::module::Module::valid(&model));
        let tools = Tools {
            tools: vec![Arc::new(Doubler)],
            calls: 1,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let out = generate_with_tools(
            &policy,
            &Vocab::Char,
            &[prompt],
            &Sampling::greedy(20),
            &tools,
            &mut rng,
            &backend::plain(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let g = &out[0];
        assert!(g.text.starts_with("<x>21</x><r>42</r>"), "{:?}", g.text);
        assert_eq!(g.calls, 1);
        let flags: Vec<bool> = g.tool.iter().copied().take(18).collect();
        let expected: Vec<bool> = (0..18).map(|i| i >= 9).collect();
        assert_eq!(flags, expected);
        assert_eq!(g.tool.len(), g.tokens.len());
        assert_eq!(g.logprob.len(), g.tokens.len());
    }
}
