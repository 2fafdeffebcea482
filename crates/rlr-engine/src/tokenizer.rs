//! The built-in character tokenizer (`tokenizer = "char"`): one token per
//! printable ASCII character or newline, plus BOS, EOS and PAD. One token per
//! character keeps `Rollout` free of offsets (the runtime counts characters).

/// Padding, never attended to and never trained on.
pub const PAD: u32 = 0;
/// Start of a sequence; every prompt begins with it.
pub const BOS: u32 = 1;
/// End of a response.
pub const EOS: u32 = 2;
/// The id of `'\n'`.
const NEWLINE: u32 = 3;
/// The id of `' '`, the first printable ASCII character.
const FIRST_PRINTABLE: u32 = 4;
/// Characters outside the vocabulary are encoded as this one.
const REPLACEMENT: char = '?';

/// The character tokenizer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CharTokenizer;

impl CharTokenizer {
    /// Number of token ids: PAD, BOS, EOS, `\n` and the 95 printable ASCII characters.
    pub const VOCAB: usize = FIRST_PRINTABLE as usize + 95;

    /// The vocabulary size.
    pub fn vocab_size(&self) -> usize {
        Self::VOCAB
    }

    /// The id of one character; characters outside the vocabulary become `?`
    /// (task prompts are ASCII, so this only affects foreign text).
    pub fn encode_char(&self, c: char) -> u32 {
        match c {
            '\n' => NEWLINE,
            ' '..='~' => FIRST_PRINTABLE + (c as u32 - ' ' as u32),
            _ => self.encode_char(REPLACEMENT),
        }
    }

    /// The ids of a text, without BOS or EOS.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        text.chars().map(|c| self.encode_char(c)).collect()
    }

    /// The character of a token; `None` for PAD, BOS, EOS and unknown ids.
    pub fn decode_token(&self, id: u32) -> Option<char> {
        match id {
            NEWLINE => Some('\n'),
            i if (FIRST_PRINTABLE..Self::VOCAB as u32).contains(&i) => {
                char::from_u32(' ' as u32 + (i - FIRST_PRINTABLE))
            }
            _ => None,
        }
    }

    /// The text of a sequence of ids, skipping special tokens.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().filter_map(|&i| self.decode_token(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trips_printable_ascii_and_newlines() {
        let t = CharTokenizer;
        let text: String = (' '..='~')
            .chain("\nWhat is 3 + 4?\n\\boxed{7}".chars())
            .collect();
        let ids = t.encode(&text);
        assert_eq!(ids.len(), text.chars().count());
        assert!(
            ids.iter()
                .all(|&i| i >= NEWLINE && (i as usize) < CharTokenizer::VOCAB)
        );
        assert_eq!(t.decode(&ids), text);
    }

    #[test]
    fn special_tokens_decode_to_nothing_and_foreign_chars_become_question_marks() {
        let t = CharTokenizer;
        assert_eq!(t.decode(&[BOS, PAD, EOS]), "");
        assert_eq!(t.decode(&t.encode("é")), "?");
        assert_eq!(CharTokenizer::VOCAB, 99);
    }
}
