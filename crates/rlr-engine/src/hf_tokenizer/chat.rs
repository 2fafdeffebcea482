//! Chat templates: the Jinja text a model ships (`tokenizer.chat_template`
//! in a GGUF, `chat_template` in `tokenizer_config.json`) rendered with
//! minijinja the way Hugging Face's `apply_chat_template` renders it:
//! `trim_blocks` and `lstrip_blocks` on, variables `messages`,
//! `add_generation_prompt`, `bos_token`, `eos_token`, and a
//! `raise_exception(message)` function that templates call on bad input.

use minijinja::{Environment, Error, ErrorKind, context};
use serde::Serialize;

/// The name the one template is stored under.
const NAME: &str = "chat_template";

/// One turn of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `system`, `user` or `assistant` (templates may accept others).
    pub role: String,
    /// The turn's text.
    pub content: String,
}

impl Message {
    /// A turn by `role`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Message {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }

    /// A system turn.
    pub fn system(content: impl Into<String>) -> Message {
        Message::new("system", content)
    }

    /// A user turn.
    pub fn user(content: impl Into<String>) -> Message {
        Message::new("user", content)
    }

    /// An assistant turn.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message::new("assistant", content)
    }
}

/// A compiled chat template with the special-token strings it may use.
#[derive(Clone, Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl ChatTemplate {
    /// Compiles `source`; a syntax error is an error naming the line.
    /// `bos_token` and `eos_token` are the strings templates see under
    /// those names (empty when the tokenizer has none).
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<ChatTemplate, String> {
        let mut env = Environment::new();
        // Hugging Face's Jinja environment settings (transformers' chat_template_utils).
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.add_function(
            "raise_exception",
            |message: String| -> Result<String, Error> {
                Err(Error::new(ErrorKind::InvalidOperation, message))
            },
        );
        env.add_template_owned(NAME, source.to_string())
            .map_err(|e| describe("the chat template does not compile", &e))?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
        })
    }

    /// The conversation as the model's prompt text; with
    /// `add_generation_prompt` it ends where the assistant's reply begins.
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, String> {
        let template = self
            .env
            .get_template(NAME)
            .map_err(|e| describe("the chat template is missing", &e))?;
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => &self.bos_token,
                eos_token => &self.eos_token,
            })
            .map_err(|e| describe("the chat template failed", &e))
    }
}

/// A minijinja error with its kind, detail and line, in one line.
fn describe(what: &str, e: &Error) -> String {
    let line = e
        .line()
        .map_or_else(String::new, |l| format!(" (line {l})"));
    match e.detail() {
        Some(detail) => format!("{what}{line}: {}: {detail}", e.kind()),
        None => format!("{what}{line}: {}", e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M-Instruct's `tokenizer.chat_template`, verbatim from its GGUF.
    pub(crate) const SMOLLM2: &str = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn smol() -> ChatTemplate {
        ChatTemplate::new(SMOLLM2, "<|im_start|>", "<|im_end|>").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn renders_smollm2s_template_with_its_default_system_prompt() {
        let text = smol()
            .render(&[Message::user("What is the capital of France?")], true)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text,
            "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
             <|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        );
        let text = smol()
            .render(
                &[
                    Message::system("Be brief."),
                    Message::user("Hi"),
                    Message::assistant("Hello"),
                ],
                false,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n\
             <|im_start|>assistant\nHello<|im_end|>\n"
        );
    }

    #[test]
    fn sees_bos_and_eos_and_strips_blocks_like_hugging_face() {
        let t = ChatTemplate::new(
            "{{ bos_token }}\n{% for m in messages %}\n  {{ m.content }}{{ eos_token }}\n{% endfor %}",
            "<s>",
            "</s>",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = t
            .render(&[Message::user("a"), Message::user("b")], false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text, "<s>\n  a</s>\n  b</s>\n");
    }

    #[test]
    fn knows_the_constructs_other_models_templates_use() {
        // `-` whitespace control, `tojson`, `loop.last`, `break` and a macro,
        // as in Qwen2.5's and Llama 3's templates.
        let t = ChatTemplate::new(
            "{%- macro turn(m) -%}<{{ m.role }}>{{ m.content | trim }}{%- endmacro -%}\n\
             {%- for m in messages -%}\n  {{- turn(m) -}}{%- if loop.last %}|{{ m | tojson }}{% endif -%}\n\
             {%- if m.role == 'stop' %}{% break %}{% endif -%}\n{%- endfor -%}",
            "",
            "",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = t
            .render(&[Message::user(" a "), Message::assistant("b")], false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            text,
            r#"<user>a<assistant>b|{"role":"assistant","content":"b"}"#
        );
        let text = t
            .render(&[Message::new("stop", "x"), Message::user("y")], false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(text, "<stop>x");
    }

    #[test]
    fn bad_templates_and_raised_exceptions_are_errors() {
        let e = ChatTemplate::new("{% for m in messages %}", "", "")
            .err()
            .unwrap_or_default();
        assert!(e.contains("does not compile"), "{e}");
        let t = ChatTemplate::new(
            "{% if messages[0].role != 'user' %}{{ raise_exception('first turn must be the user') }}{% endif %}",
            "",
            "",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let e = t
            .render(&[Message::system("x")], false)
            .err()
            .unwrap_or_default();
        assert!(e.contains("first turn must be the user"), "{e}");
        let t = ChatTemplate::new("{{ messages | no_such_filter }}", "", "")
            .map(|t| t.render(&[], false));
        assert!(matches!(t, Err(_) | Ok(Err(_))), "{t:?}");
    }
}
