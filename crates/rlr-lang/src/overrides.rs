//! `--set KEY=VALUE`: overriding a recipe field from the command line by
//! rewriting the recipe's text, so that the result is parsed and checked
//! exactly like a recipe (ranges, kinds, names) and can be saved as the
//! run's resolved recipe.
//!
//! Keys:
//! - `seed`, `recipe.seed`, `recipe.FIELD`: a field of the `recipe` header;
//! - `STAGE.SETTING` (`rl.steps`): one stage's setting;
//! - `DECL.ARG` (`policy.width`, `train.max`): an argument of a model, task
//!   or tool declaration;
//! - `SETTING` alone (`steps`): every stage whose kind has that setting;
//! - `STAGE.BINDING` (`rl.lambda`), or `BINDING` alone: a reward binding
//!   whose value is a constant (`lambda = 0.5`), so that a recipe's named
//!   constants (the inferred ones above all) can be changed without editing
//!   it. A stage setting of the same name wins; a computed binding is refused.
//!
//! A value is recipe text: `3`, `1e-4`, `"k2"`, `true`, `[1, 2]`.

use crate::ast::{Call, DeclKind, ExprKind, Item, StageItem, UnaryOp};
use crate::diagnostic::did_you_mean;
use crate::registry;
use crate::source::SourceId;

/// One text edit: replace `start..end` with `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// Applies `sets` (in order; a later key wins) to the recipe `text` and
/// returns the new text. Errors name the key and say what exists.
pub fn apply(text: &str, sets: &[(String, String)]) -> Result<String, String> {
    let mut text = text.to_string();
    // One key at a time on the rewritten text: simple, and two sets of the
    // same key cannot produce overlapping edits.
    for (key, value) in sets {
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("`--set {key}=`: the value is empty"));
        }
        let file = crate::parse::parse(SourceId(0), &text).map_err(|d| {
            format!(
                "`--set` needs a recipe that parses; fix this first: {}",
                d.message
            )
        })?;
        let edits = edits_for(&file, &text, key, value)?;
        for e in edits.into_iter().rev() {
            text.replace_range(e.start..e.end, &e.text);
        }
    }
    Ok(text)
}

fn span(s: crate::source::Span) -> (usize, usize) {
    (s.start as usize, s.end as usize)
}

/// An edit setting the named argument `name` of `call` to `value`: the
/// value replaced when given, else `, name = value` added before `)`.
fn call_edit(call: &Call, text: &str, name: &str, value: &str) -> Edit {
    if let Some(arg) = call
        .args
        .iter()
        .find(|a| a.name.as_ref().is_some_and(|n| n.name == name))
    {
        let (start, end) = span(arg.value.span);
        return Edit {
            start,
            end,
            text: value.to_string(),
        };
    }
    let (_, end) = span(call.span);
    // `end - 1` is the closing parenthesis.
    let close = end.saturating_sub(1);
    let empty = text[..close].trim_end().ends_with('(');
    let sep = if empty { "" } else { ", " };
    Edit {
        start: close,
        end: close,
        text: format!("{sep}{name} = {value}"),
    }
}

fn edits_for(
    file: &crate::ast::File,
    text: &str,
    key: &str,
    value: &str,
) -> Result<Vec<Edit>, String> {
    let (head, field) = match key.split_once('.') {
        Some((h, f)) => (Some(h), f),
        None => (None, key),
    };
    if field.is_empty() || field.contains('.') || head.is_some_and(str::is_empty) {
        return Err(format!(
            "`--set {key}`: a key is `SETTING`, `STAGE.SETTING`, `DECL.ARGUMENT` or `recipe.FIELD`"
        ));
    }
    match head {
        None if field == "seed" => recipe_edit(file, text, key, field, value).map(|e| vec![e]),
        Some("recipe") => recipe_edit(file, text, key, field, value).map(|e| vec![e]),
        Some(name) => named_edit(file, text, key, name, field, value).map(|e| vec![e]),
        None => every_stage(file, text, key, value),
    }
}

fn recipe_edit(
    file: &crate::ast::File,
    text: &str,
    key: &str,
    field: &str,
    value: &str,
) -> Result<Edit, String> {
    let meta = file
        .items
        .iter()
        .find_map(|i| match i {
            Item::Recipe(m) => Some(m),
            _ => None,
        })
        .ok_or_else(|| format!("`--set {key}`: the recipe has no `recipe \"...\" {{ }}` header"))?;
    if let Some(f) = meta.fields.iter().find(|f| f.name.name == field) {
        let (start, end) = span(f.value.span);
        return Ok(Edit {
            start,
            end,
            text: value.to_string(),
        });
    }
    let (_, end) = span(meta.span);
    let close = end.saturating_sub(1);
    let empty = text[..close].trim_end().ends_with('{');
    let sep = if empty { " " } else { ", " };
    Ok(Edit {
        start: close,
        end: close,
        text: format!("{sep}{field} = {value} "),
    })
}

fn named_edit(
    file: &crate::ast::File,
    text: &str,
    key: &str,
    name: &str,
    field: &str,
    value: &str,
) -> Result<Edit, String> {
    for item in &file.items {
        match item {
            Item::Stage(stage) if stage.name.name == name => {
                if !has_setting(stage, field)
                    && let Some(edit) = binding_edit(stage, key, field, value)
                {
                    return edit;
                }
                return Ok(stage_edit(stage, text, field, value));
            }
            Item::Decl(decl) if decl.name.name == name => {
                let kind = match decl.kind {
                    DeclKind::Model => "model",
                    DeclKind::Task => "task",
                    DeclKind::Tool => "tool",
                };
                let known = registry::lookup(&decl.value.callee.dotted());
                if let Some(b) = known
                    && b.param(field).is_none()
                {
                    return Err(format!(
                        "`--set {key}`: {kind} `{name}` is `{}`, which has no argument `{field}`{}",
                        b.name,
                        hint(field, b.params.iter().map(|p| p.name))
                    ));
                }
                return Ok(call_edit(&decl.value, text, field, value));
            }
            _ => {}
        }
    }
    let names: Vec<&str> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Stage(s) => Some(s.name.name.as_str()),
            Item::Decl(d) => Some(d.name.name.as_str()),
            _ => None,
        })
        .collect();
    Err(format!(
        "`--set {key}`: the recipe has no stage, model, task or tool `{name}`{}",
        hint(name, names.iter().copied())
    ))
}

/// Sets `field` in a stage: where it is written (header argument or body
/// setting), else as a new body setting (or header argument when the stage
/// has no body).
fn stage_edit(stage: &crate::ast::Stage, text: &str, field: &str, value: &str) -> Edit {
    if let Some(body) = &stage.body {
        for item in &body.items {
            if let StageItem::Setting(f) = item
                && f.name.name == field
            {
                let (start, end) = span(f.value.span);
                return Edit {
                    start,
                    end,
                    text: value.to_string(),
                };
            }
        }
        let in_header = stage
            .header
            .args
            .iter()
            .any(|a| a.name.as_ref().is_some_and(|n| n.name == field));
        if !in_header {
            // After the body's `{`.
            let (start, _) = span(body.span);
            let at = text[start..].find('{').map_or(start, |i| start + i + 1);
            return Edit {
                start: at,
                end: at,
                text: format!("\n  {field} = {value}"),
            };
        }
    }
    call_edit(&stage.header, text, field, value)
}

fn every_stage(
    file: &crate::ast::File,
    text: &str,
    key: &str,
    value: &str,
) -> Result<Vec<Edit>, String> {
    let mut edits = Vec::new();
    let mut settings: Vec<&'static str> = Vec::new();
    for item in &file.items {
        if let Item::Stage(stage) = item {
            let kind = registry::lookup(&stage.header.callee.dotted());
            if let Some(b) = kind {
                settings.extend(b.params.iter().map(|p| p.name));
                if b.param(key).is_some() {
                    edits.push(stage_edit(stage, text, key, value));
                }
            }
        }
    }
    if edits.is_empty() {
        // No stage has such a setting: a reward binding of that name, in every stage that binds it.
        for item in &file.items {
            if let Item::Stage(stage) = item
                && let Some(edit) = binding_edit(stage, key, key, value)
            {
                edits.push(edit?);
                settings.push("");
            }
        }
    }
    if edits.is_empty() {
        return Err(format!(
            "`--set {key}`: no stage of this recipe has a setting or a reward binding `{key}`{}",
            hint(key, settings.into_iter().filter(|s| !s.is_empty()))
        ));
    }
    edits.sort_by_key(|e| e.start);
    Ok(edits)
}

/// Whether the stage's kind has a setting `field`.
fn has_setting(stage: &crate::ast::Stage, field: &str) -> bool {
    registry::lookup(&stage.header.callee.dotted()).is_some_and(|b| b.param(field).is_some())
}

/// The edit of a reward binding named `field` of the stage, if it has one:
/// its value replaced when it is a constant, an error naming it when it is
/// computed (replacing an expression would silently cut the graph).
fn binding_edit(
    stage: &crate::ast::Stage,
    key: &str,
    field: &str,
    value: &str,
) -> Option<Result<Edit, String>> {
    let binding = stage
        .body
        .as_ref()?
        .items
        .iter()
        .find_map(|item| match item {
            StageItem::Reward(r) => r.bindings.iter().find(|b| b.name.name == field),
            _ => None,
        })?;
    let constant = match &binding.value.kind {
        ExprKind::Number { .. } | ExprKind::Str(_) | ExprKind::Bool(_) => true,
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => matches!(operand.kind, ExprKind::Number { .. }),
        _ => false,
    };
    if !constant {
        return Some(Err(format!(
            "`--set {key}`: `{field}` in stage `{}` is computed, not a constant; `--set` \
             changes only a binding whose value is a number, string or boolean",
            stage.name.name
        )));
    }
    let (start, end) = span(binding.value.span);
    Some(Ok(Edit {
        start,
        end,
        text: value.to_string(),
    }))
}

fn hint<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> String {
    let list: Vec<&str> = candidates.collect();
    match did_you_mean(name, list) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = r#"recipe "t" { seed = 1 }
model policy = gpt(layers = 2, width = 64, heads = 2)
task  train  = arith(max = 9)
stage warmup = sft(policy, train, steps = 10)
stage rl = grpo(policy, train) {
  steps = 20
  reward { correct = exact(answer, sample.answer) }
  optimize correct
}
"#;

    fn set(key: &str, value: &str) -> Result<String, String> {
        apply(RECIPE, &[(key.to_string(), value.to_string())])
    }

    fn program(text: &str) -> crate::ir::Program {
        let c = crate::compile("t.rlr", text, &mut crate::NoImports);
        c.program
            .unwrap_or_else(|| panic!("{:?}\n{text}", c.diagnostics))
    }

    #[test]
    fn a_bare_setting_applies_to_every_stage_that_has_it() {
        let p = program(&set("steps", "3").unwrap_or_default());
        for s in &p.stages {
            assert_eq!(
                s.settings.get("steps").and_then(|c| c.as_f64()),
                Some(3.0),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn stage_declaration_and_recipe_keys() {
        let text = apply(
            RECIPE,
            &[
                ("rl.lr".into(), "2e-4".into()),
                ("warmup.steps".into(), "4".into()),
                ("policy.width".into(), "32".into()),
                ("policy.context".into(), "40".into()),
                ("seed".into(), "7".into()),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let p = program(&text);
        assert_eq!(p.seed(), 7);
        assert_eq!(p.stages[0].settings["steps"].as_f64(), Some(4.0));
        assert_eq!(p.stages[1].settings["lr"].as_f64(), Some(2e-4));
        let policy = p.decl("policy").unwrap_or_else(|| panic!("no policy"));
        assert_eq!(policy.args["width"].as_f64(), Some(32.0));
        assert_eq!(policy.args["context"].as_f64(), Some(40.0));
    }

    #[test]
    fn values_are_checked_like_the_recipe() {
        let text = set("rl.lr", "-1").unwrap_or_default();
        let c = crate::compile("t.rlr", &text, &mut crate::NoImports);
        assert!(c.has_errors(), "a negative learning rate must be refused");
    }

    const WEIGHTED: &str = r#"recipe "t" { seed = 1 }
model policy = gpt(layers = 2, width = 64, heads = 2)
task  train  = arith(max = 9)
stage rl = grpo(policy, train) {
  steps = 20
  reward {
    lambda  = 0.5
    offset  = -1
    mode    = "sum"
    correct = exact(answer, sample.answer)
    total   = lambda * correct + offset
  }
  optimize total
}
"#;

    #[test]
    fn constant_reward_bindings_can_be_set_by_stage_or_alone() {
        let text = apply(
            WEIGHTED,
            &[
                ("rl.lambda".into(), "2".into()),
                ("offset".into(), "-0.25".into()),
                ("mode".into(), "\"mean\"".into()),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(text.contains("lambda  = 2\n"), "{text}");
        assert!(text.contains("offset  = -0.25\n"), "{text}");
        assert!(text.contains("mode    = \"mean\"\n"), "{text}");
        program(&text);
        // A stage setting of the same name is still the setting.
        let text = apply(WEIGHTED, &[("rl.steps".into(), "3".into())]).unwrap_or_default();
        assert_eq!(
            program(&text).stages[0].settings["steps"].as_f64(),
            Some(3.0)
        );
    }

    #[test]
    fn a_computed_binding_is_refused_by_name() {
        for key in ["rl.total", "total"] {
            let e = apply(WEIGHTED, &[(key.into(), "1".into())])
                .err()
                .unwrap_or_default();
            assert!(e.contains("`total` in stage `rl` is computed"), "{e}");
        }
        let e = apply(WEIGHTED, &[("lambdaa".into(), "1".into())])
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("no stage of this recipe has a setting or a reward binding"),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_say_what_exists() {
        let e = set("stepz", "3").err().unwrap_or_default();
        assert!(e.contains("did you mean `steps`"), "{e}");
        let e = set("rll.steps", "3").err().unwrap_or_default();
        assert!(e.contains("did you mean `rl`"), "{e}");
        let e = set("policy.widht", "3").err().unwrap_or_default();
        assert!(e.contains("did you mean `width`"), "{e}");
        assert!(set("a.b.c", "1").is_err());
        assert!(set("steps", " ").is_err());
    }
}
