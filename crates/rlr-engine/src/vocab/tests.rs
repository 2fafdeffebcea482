//! The three kinds of vocabulary: ids, prompts, banned ids, and decoding
//! with offsets (a character split over two byte-level tokens included).

use super::*;
use crate::testkit::tiny_bpe;
use crate::tokenizer::{BOS, EOS, PAD};

fn ok<T>(r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// The tiny BPE tokenizer with its special ids and chat template.
fn chat_tokenizer() -> HfTokenizer {
    ok(HfTokenizer::from_vocab(&tiny_bpe()))
}

/// The same tokenizer.json alone: no special ids, no template.
fn plain_tokenizer() -> HfTokenizer {
    let json = ok(tiny_bpe()
        .tokenizer_json_string()
        .map_err(|e| e.to_string()));
    ok(HfTokenizer::from_json(&json))
}

fn decode_all(v: &Vocab, ids: &[u32]) -> (String, Vec<usize>) {
    let mut d = v.decoder();
    for &i in ids {
        ok(d.push(i));
    }
    ok(d.finish())
}

#[test]
fn the_character_vocabulary_reads_bos_prompt_newline_and_needs_no_offsets() {
    let v = Vocab::Char;
    let want: Vec<u32> = std::iter::once(BOS)
        .chain(CharTokenizer.encode("1+1\n"))
        .collect();
    assert_eq!(ok(v.encode_prompt("1+1")), want);
    assert_eq!(
        (v.size(), v.eos(), v.pad(), v.bos()),
        (99, EOS, PAD, Some(BOS))
    );
    assert_eq!(v.banned(), &[PAD, BOS]);
    assert!(v.is_char());
    let (text, offsets) = decode_all(&v, &CharTokenizer.encode("a\nb"));
    assert_eq!((text.as_str(), offsets.len()), ("a\nb", 0));
}

#[test]
fn the_built_in_model_over_a_tokenizer_json_adds_pad_bos_and_eos() {
    let tok = plain_tokenizer();
    let n = tok.vocab_size() as u32;
    let hello = ok(tok.encode("hello world"));
    let newline = ok(tok.encode("\n"));
    let v = Vocab::for_gpt(tok);
    assert_eq!(v.size(), n as usize + 3);
    assert_eq!((v.pad(), v.bos(), v.eos()), (n, Some(n + 1), n + 2));
    // The tokenizer's own special tokens are never sampled either; EOS is.
    assert_eq!(v.banned(), &[0, 1, 2, n, n + 1]);
    let want: Vec<u32> = std::iter::once(n + 1).chain(hello).chain(newline).collect();
    assert_eq!(ok(v.encode_prompt("hello world")), want);
    assert!(!v.is_char());
}

#[test]
fn a_chat_model_reads_its_template_and_never_samples_specials_but_eos() {
    let tok = chat_tokenizer();
    let n = tok.vocab_size() as u32;
    let want = ok(tok.encode_chat(&[Message::user("hello")], true));
    // The model has 4 more embedding rows than the tokenizer has ids.
    let v = ok(Vocab::for_pretrained(tok, n as usize + 4, None));
    assert_eq!(ok(v.encode_prompt("hello")), want);
    assert_eq!(
        ok(v.encode_prompt("hello")),
        ok(v.encode("<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"))
    );
    assert_eq!(
        (v.eos(), v.pad(), v.bos(), v.size()),
        (2, 0, Some(1), n as usize + 4)
    );
    assert_eq!(v.banned(), &[0, 1, n, n + 1, n + 2, n + 3]);

    // Without a template: BOS, prompt, newline; EOS from the model's config.
    let v = ok(Vocab::for_pretrained(
        plain_tokenizer(),
        n as usize,
        Some(2),
    ));
    assert_eq!((v.eos(), v.pad(), v.bos()), (2, 2, None));
    assert_eq!(ok(v.encode_prompt("hi")), ok(v.encode("hi\n")));

    // What cannot work is refused.
    let e = Vocab::for_pretrained(plain_tokenizer(), n as usize, None)
        .err()
        .unwrap_or_default();
    assert!(e.contains("no end-of-sequence"), "{e}");
    let e = Vocab::for_pretrained(chat_tokenizer(), 10, None)
        .err()
        .unwrap_or_default();
    assert!(e.contains("only 10 embedding rows"), "{e}");
    let e = Vocab::for_pretrained(plain_tokenizer(), n as usize, Some(n + 5))
        .err()
        .unwrap_or_default();
    assert!(e.contains("not in the tokenizer"), "{e}");
}

#[test]
fn offsets_mark_where_each_token_starts_and_a_split_character_shares_one() {
    let v = ok(Vocab::for_pretrained(chat_tokenizer(), 263, None));
    let text = "hello world é!";
    let ids = ok(v.encode(text));
    // hell o Ġw o r l d Ġ, the two bytes of é, !
    assert_eq!(ids.len(), 11);
    let (got, offsets) = decode_all(&v, &ids);
    assert_eq!(got, text);
    assert_eq!(offsets, vec![0, 4, 5, 7, 8, 9, 10, 11, 12, 12, 14]);
    // The reward runtime puts byte 12 (é) in the token that completes it.
    let rollout = rlr_reward::Rollout {
        text: got,
        tokens: ids.clone(),
        offsets,
        ..rlr_reward::Rollout::default()
    };
    assert_eq!((rollout.token_count(), rollout.token_at(12)), (11, 9));

    // While é is half there, the text stops before it (stop strings never
    // see a half character); cut there, the token is decoded as it is and
    // still starts inside the text.
    let mut d = v.decoder();
    for &i in &ids[..9] {
        ok(d.push(i));
    }
    assert_eq!(d.text(), "hello world ");
    let (cut, offsets) = ok(d.finish());
    assert_eq!(cut, "hello world \u{FFFD}");
    assert_eq!(offsets.len(), 9);
    assert_eq!(offsets[8], 12);
    assert!(
        offsets
            .iter()
            .all(|&o| o <= cut.len() && cut.is_char_boundary(o))
    );
}

/// Bytes at the start of `a` and `b` that agree, whole characters only.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i)
}

#[test]
fn incremental_offsets_are_where_the_text_of_the_tokens_before_stops_agreeing() {
    // The definition, computed the slow way: token i starts where the
    // decoding of tokens 0..i stops agreeing with the whole text.
    let v = ok(Vocab::for_pretrained(chat_tokenizer(), 263, None));
    let Vocab::Hf(h) = &v else {
        panic!("not a Hugging Face vocabulary")
    };
    for text in [
        "héllo wörld 😀 ok",
        "日本語 text\n",
        "a😀😀b",
        "<|im_start|>hi",
        "",
    ] {
        let ids = ok(v.encode(text));
        let mut d = v.decoder();
        for &i in &ids {
            ok(d.push(i));
            assert!(!d.text().contains('\u{FFFD}'), "{text:?}: {:?}", d.text());
        }
        let (got, offsets) = ok(d.finish());
        assert_eq!(got, text);
        let slow: Vec<usize> = (0..ids.len())
            .map(|i| common_prefix(&ok(h.tokenizer.decode(&ids[..i], false)), text))
            .collect();
        assert_eq!(offsets, slow, "{text:?}");
    }
    assert_eq!(common_prefix("a\u{FFFD}", "aé"), 1);
    assert_eq!(common_prefix("abc", "ab"), 2);
}

#[test]
fn decoding_everything_again_keeps_offsets_inside_the_text_and_on_characters() {
    // What a decoder that does not extend its own text falls back on.
    let v = ok(Vocab::for_pretrained(chat_tokenizer(), 263, None));
    let Vocab::Hf(h) = &v else {
        panic!("not a Hugging Face vocabulary")
    };
    let mut d = v.decoder();
    for &i in &ok(v.encode("aé")) {
        ok(d.push(i));
    }
    // Offsets as a confused decoder might have left them: past the end,
    // inside é, going back.
    d.offsets = vec![9, 2, 1];
    ok(d.redecode(h));
    assert_eq!(d.text, "aé");
    assert_eq!(d.offsets, vec![1, 1, 1]);
    assert_eq!((d.prefix, d.read), (0, 3));
}
