//! The little lexical knowledge shared by the checks that run on raw text
//! (size and nesting limits, unclosed brackets, comment collection): where
//! strings and comments are.

/// What a character of the text is part of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Code: names, numbers, operators, brackets.
    Code,
    /// Inside a string literal, quotes included.
    Str,
    /// A `#` comment, up to (not including) the line end.
    Comment,
}

/// Each character with its byte offset and what it is part of.
pub fn classify(text: &str) -> impl Iterator<Item = (usize, char, Part)> + '_ {
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    text.char_indices().map(move |(i, c)| {
        if in_comment {
            if c == '\n' {
                in_comment = false;
                return (i, c, Part::Code);
            }
            return (i, c, Part::Comment);
        }
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') | (false, '\n') => in_string = false,
                _ => {}
            }
            return (i, c, Part::Str);
        }
        match c {
            '#' => {
                in_comment = true;
                (i, c, Part::Comment)
            }
            '"' => {
                in_string = true;
                (i, c, Part::Str)
            }
            _ => (i, c, Part::Code),
        }
    })
}

/// The brackets of the code, in order: offset and character.
pub fn brackets(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    classify(text)
        .filter(|(_, c, part)| {
            *part == Part::Code && matches!(c, '(' | '[' | '{' | ')' | ']' | '}')
        })
        .map(|(i, c, _)| (i, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_comments_hide_brackets() {
        let text = "f(\"(#\") # ( \n[x]";
        let b: String = brackets(text).map(|(_, c)| c).collect();
        assert_eq!(b, "()[]");
    }
}
