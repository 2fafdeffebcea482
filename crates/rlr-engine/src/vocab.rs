//! The vocabulary a policy speaks: the built-in character tokenizer or a
//! Hugging Face tokenizer. It owns everything the engine must know about
//! ids: the special ids (BOS, EOS, PAD) and the ids never sampled, how a
//! task prompt becomes ids, how text (demonstrations, tool output) becomes
//! ids, and how sampled ids become text token by token (for stop strings
//! and tool tags) with the byte offset where each token starts
//! (`Rollout::offsets`).
//!
//! Prompts: the character vocabulary (and the built-in model over a
//! tokenizer.json) reads `BOS prompt \n`; a model with a chat template reads
//! the template rendered with one user turn and the generation prompt, as
//! it was tuned to.

use std::sync::Arc;

use crate::hf_tokenizer::{HfTokenizer, Message};
use crate::tokenizer::{self, CharTokenizer};

/// A policy's vocabulary. Cloning is cheap (the tokenizer is shared).
#[derive(Clone, Debug)]
pub enum Vocab {
    /// The built-in character tokenizer: one token per character, so
    /// rollouts need no offsets.
    Char,
    /// A Hugging Face tokenizer with the ids the engine uses.
    Hf(Arc<HfVocab>),
}

/// A Hugging Face tokenizer and the ids the engine uses with it.
#[derive(Debug)]
pub struct HfVocab {
    tokenizer: HfTokenizer,
    /// Rows of the model's embedding (at least the tokenizer's ids).
    size: usize,
    bos: Option<u32>,
    eos: u32,
    pad: u32,
    /// Never sampled: special tokens other than EOS, and the model's rows
    /// past the tokenizer's ids. Ascending.
    banned: Vec<u32>,
    /// Whether prompts go through the chat template.
    chat: bool,
}

/// Ids the character vocabulary never samples: PAD and BOS are not text.
const CHAR_BANNED: [u32; 2] = [tokenizer::PAD, tokenizer::BOS];

impl Vocab {
    /// The built-in model over a tokenizer.json (`gpt(tokenizer = "...")`):
    /// the tokenizer's ids, then three ids of its own, PAD, BOS and EOS, so
    /// a plain BPE vocabulary without special tokens works too. The
    /// tokenizer's own special tokens are never sampled.
    pub fn for_gpt(tokenizer: HfTokenizer) -> Vocab {
        let n = tokenizer.vocab_size() as u32;
        let (pad, bos, eos) = (n, n + 1, n + 2);
        let mut banned = tokenizer.special_ids();
        banned.extend([pad, bos]);
        banned.sort_unstable();
        banned.dedup();
        Vocab::Hf(Arc::new(HfVocab {
            tokenizer,
            size: n as usize + 3,
            bos: Some(bos),
            eos,
            pad,
            banned,
            chat: false,
        }))
    }

    /// A pretrained model's tokenizer, for a model of `rows` embedding rows:
    /// generation ends at the tokenizer's EOS (`eos` when the tokenizer
    /// names none); padding is its PAD, else EOS; prompts use its chat
    /// template when it has one.
    pub fn for_pretrained(
        tokenizer: HfTokenizer,
        rows: usize,
        eos: Option<u32>,
    ) -> Result<Vocab, String> {
        let n = tokenizer.vocab_size();
        if n > rows {
            return Err(format!(
                "the tokenizer has {n} ids but the model only {rows} embedding rows"
            ));
        }
        let eos = tokenizer
            .eos_id()
            .or(eos)
            .ok_or("the tokenizer names no end-of-sequence token, so generation could never end")?;
        if eos as usize >= n {
            return Err(format!(
                "the end-of-sequence id {eos} is not in the tokenizer"
            ));
        }
        let pad = tokenizer.pad_id().unwrap_or(eos);
        let mut banned: Vec<u32> = tokenizer
            .special_ids()
            .into_iter()
            .filter(|&i| i != eos)
            .collect();
        banned.extend(n as u32..rows as u32);
        Ok(Vocab::Hf(Arc::new(HfVocab {
            chat: tokenizer.chat_template().is_some(),
            bos: tokenizer.bos_id(),
            tokenizer,
            size: rows,
            eos,
            pad,
            banned,
        })))
    }

    /// Number of ids (the model's embedding rows).
    pub fn size(&self) -> usize {
        match self {
            Vocab::Char => CharTokenizer::VOCAB,
            Vocab::Hf(h) => h.size,
        }
    }

    /// Whether this is the character vocabulary (rollouts then carry no offsets).
    pub fn is_char(&self) -> bool {
        matches!(self, Vocab::Char)
    }

    /// End of a response.
    pub fn eos(&self) -> u32 {
        match self {
            Vocab::Char => tokenizer::EOS,
            Vocab::Hf(h) => h.eos,
        }
    }

    /// Padding (never attended to, never trained on).
    pub fn pad(&self) -> u32 {
        match self {
            Vocab::Char => tokenizer::PAD,
            Vocab::Hf(h) => h.pad,
        }
    }

    /// Start of a sequence, when the vocabulary has one.
    pub fn bos(&self) -> Option<u32> {
        match self {
            Vocab::Char => Some(tokenizer::BOS),
            Vocab::Hf(h) => h.bos,
        }
    }

    /// Ids never sampled, ascending.
    pub fn banned(&self) -> &[u32] {
        match self {
            Vocab::Char => &CHAR_BANNED,
            Vocab::Hf(h) => &h.banned,
        }
    }

    /// The ids of a text, nothing added around it (demonstrations, tool output).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        match self {
            Vocab::Char => Ok(CharTokenizer.encode(text)),
            Vocab::Hf(h) => h.tokenizer.encode(text),
        }
    }

    /// The ids the policy reads for a task prompt, ending where the
    /// response begins: `BOS prompt \n`, or the chat template with one user
    /// turn and the generation prompt.
    pub fn encode_prompt(&self, prompt: &str) -> Result<Vec<u32>, String> {
        match self {
            Vocab::Hf(h) if h.chat => h
                .tokenizer
                .encode_chat(&[Message::user(prompt)], true)
                .map_err(|e| format!("prompt {prompt:?}: {e}")),
            _ => {
                let mut ids: Vec<u32> = self.bos().into_iter().collect();
                ids.extend(self.encode(prompt)?);
                ids.extend(self.encode("\n")?);
                Ok(ids)
            }
        }
    }

    /// A decoder for one response.
    pub fn decoder(&self) -> Decoder {
        Decoder {
            vocab: self.clone(),
            ids: Vec::new(),
            text: String::new(),
            offsets: Vec::new(),
            prefix: 0,
            read: 0,
        }
    }
}

/// A response's text as its tokens arrive, and where each token starts.
///
/// BPE pieces do not always end on a character: a byte-level token may be
/// the first byte of a character that the next token completes. Such a
/// token waits: the text grows only by whole characters, and a waiting
/// token starts where the text it completes will (its offset is the text's
/// length when it arrived). Decoding restarts a few tokens back rather than
/// at the response's start (as Hugging Face's text-generation server does),
/// so each token costs a short decode, and decoders that treat a sequence's
/// first token specially (SentencePiece's leading space) see the same
/// context in both decodes they compare.
#[derive(Clone, Debug)]
pub struct Decoder {
    vocab: Vocab,
    ids: Vec<u32>,
    text: String,
    offsets: Vec<usize>,
    /// Tokens before `prefix` are settled; both decodes start there.
    prefix: usize,
    /// Tokens before `read` are in `text`; the rest wait for a whole character.
    read: usize,
}

impl Decoder {
    /// Appends one token.
    pub fn push(&mut self, id: u32) -> Result<(), String> {
        let Vocab::Hf(h) = &self.vocab else {
            if let Some(c) = CharTokenizer.decode_token(id) {
                self.text.push(c);
            }
            return Ok(());
        };
        let h = h.clone();
        self.offsets.push(self.text.len());
        self.ids.push(id);
        let before = h
            .tokenizer
            .decode(&self.ids[self.prefix..self.read], false)?;
        let now = h.tokenizer.decode(&self.ids[self.prefix..], false)?;
        match now.strip_prefix(before.as_str()) {
            Some(piece) if piece.ends_with('\u{FFFD}') || piece.is_empty() => {}
            Some(piece) => {
                self.text.push_str(piece);
                self.prefix = self.read;
                self.read = self.ids.len();
            }
            // A decoder whose text of more tokens does not extend that of
            // fewer: decode everything again.
            None => self.redecode(&h)?,
        }
        Ok(())
    }

    /// The whole text again from every token, offsets kept inside it and on
    /// its characters.
    fn redecode(&mut self, h: &HfVocab) -> Result<(), String> {
        self.text = h.tokenizer.decode(&self.ids, false)?;
        self.prefix = 0;
        self.read = self.ids.len();
        // Inside the text, on a character, and no later than the next token.
        let mut next = self.text.len();
        for o in self.offsets.iter_mut().rev() {
            let mut at = (*o).min(next);
            while !self.text.is_char_boundary(at) {
                at -= 1;
            }
            *o = at;
            next = at;
        }
        Ok(())
    }

    /// The text so far (whole characters only).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text and the byte offset in it where each token starts (empty
    /// for the character vocabulary: one token per character). Tokens still
    /// waiting for a character's last bytes are decoded as they are (an
    /// unfinished character becomes U+FFFD). Offsets never decrease and
    /// never pass the end of the text.
    pub fn finish(mut self) -> Result<(String, Vec<usize>), String> {
        let Vocab::Hf(h) = &self.vocab else {
            return Ok((self.text, Vec::new()));
        };
        let h = h.clone();
        if self.read < self.ids.len() {
            let before = h
                .tokenizer
                .decode(&self.ids[self.prefix..self.read], false)?;
            let now = h.tokenizer.decode(&self.ids[self.prefix..], false)?;
            match now.strip_prefix(before.as_str()) {
                Some(piece) => self.text.push_str(piece),
                None => self.redecode(&h)?,
            }
        }
        Ok((self.text, self.offsets))
    }
}

#[cfg(test)]
mod tests;
