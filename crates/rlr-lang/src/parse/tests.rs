use super::*;
use crate::ast::{ExprKind, Item, StageItem};

fn parse_ok(text: &str) -> ast::File {
    match parse(SourceId(0), text) {
        Ok(f) => f,
        Err(d) => panic!("parse failed: {d:?}"),
    }
}

fn parse_err(text: &str) -> Diagnostic {
    match parse(SourceId(0), text) {
        Ok(f) => panic!("expected an error, got {f:?}"),
        Err(d) => d,
    }
}

#[test]
fn numbers_strings_and_precedence() {
    let f = parse_ok("fn f() = -2 ^ 2 * 3e-4 + 1_000 / 2 > 1 and not \"a\\n\\u{41}\" == \"b\"");
    let Item::Fn(def) = &f.items[0] else { panic!() };
    // `and` binds loosest here; `not` applies to the comparison.
    let ExprKind::Binary { op, rhs, .. } = &def.result.kind else {
        panic!()
    };
    assert_eq!(*op, ast::BinaryOp::And);
    let ExprKind::Unary { operand, .. } = &rhs.kind else {
        panic!()
    };
    let ExprKind::Binary { lhs, .. } = &operand.kind else {
        panic!()
    };
    assert_eq!(lhs.kind, ExprKind::Str("a\nA".into()));
}

#[test]
fn when_else_and_fallback() {
    let f = parse_ok(
        "stage rl = grpo(p, t) { reward {\n t = j(x) when o >= 0.2 else 0\n g = mean(t where c) - 1 else 0\n } optimize t on probe scaled by max(g, 0.5) weight 0.1 \n weight = 3 }",
    );
    let Item::Stage(s) = &f.items[0] else {
        panic!()
    };
    let body = s.body.as_ref().unwrap();
    let StageItem::Reward(r) = &body.items[0] else {
        panic!()
    };
    assert!(matches!(r.bindings[0].value.kind, ExprKind::When { .. }));
    assert!(r.bindings[1].fallback.is_some());
    let StageItem::Optimize(o) = &body.items[1] else {
        panic!()
    };
    assert!(o.on.is_some() && o.scaled_by.is_some() && o.weight.is_some());
    assert!(matches!(body.items[2], StageItem::Setting(_)));
}

#[test]
fn ranges_tuples_lists_and_comments() {
    let f = parse_ok(
        "# top\nfn a() = linear(0.5 -> 0, over = steps) # tail\nfn b() = [(0, 1), (10, 0.5)]",
    );
    assert_eq!(f.comments.len(), 2);
    assert_eq!(f.comments[1].text, " tail");
    let Item::Fn(def) = &f.items[0] else { panic!() };
    let ExprKind::Call(c) = &def.result.kind else {
        panic!()
    };
    assert!(matches!(c.args[0].value.kind, ExprKind::Range { .. }));
}

#[test]
fn errors_name_tokens_not_rules() {
    let d = parse_err("model policy gpt()");
    assert!(d.message.contains("`=`"), "{}", d.message);
    assert!(!d.message.contains("assign"));
    let d = parse_err("stage rl = grpo(p, t) { reward { x = 1 + } }");
    assert!(d.message.contains("an expression"), "{}", d.message);
    let d = parse_err("fn f() = 1 < 2 < 3");
    assert_eq!(d.code, "E0011");
    let d = parse_err("stage rl = grpo(p, t) {\n steps = 3\n");
    assert!(
        d.secondary
            .iter()
            .any(|l| l.message.contains("never closed")),
        "{d:?}"
    );
    let d = parse_err("fn f() = \"a\\q\"");
    assert_eq!(d.code, "E0013");
    let d = parse_err("stage s = grpo(p, t) { reward { when = 1 } }");
    assert!(
        d.help.as_deref().unwrap_or("").contains("reserved"),
        "{d:?}"
    );
}

#[test]
fn rejects_garbage_and_deep_nesting() {
    assert_eq!(parse_err("\u{0}\u{1}binary").code, "E0003");
    let deep = format!("fn f() = {}1{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(parse_err(&deep).code, "E0004");
    assert!(parse(SourceId(0), "").is_ok());
}

#[test]
fn nesting_is_linear_and_brackets_are_kept_apart() {
    // 30 levels parse; 60 are refused quickly. Exponential backtracking
    // (the old tuple-before-parenthesis rule) would never finish either.
    let start = std::time::Instant::now();
    let deep = |n: usize| format!("fn f() = {}1{}", "(".repeat(n), ")".repeat(n));
    assert!(parse(SourceId(0), &deep(30)).is_ok());
    assert_eq!(parse_err(&deep(60)).code, "E0005");
    assert!(start.elapsed().as_secs() < 5);
    assert!(parse(SourceId(0), "fn f(a, b, c) = (a < b) == c").is_ok());
    let f = parse_ok("fn f(a) {\n  x = a\n  (x, 1)\n}");
    let Item::Fn(def) = &f.items[0] else { panic!() };
    assert!(
        matches!(def.result.kind, ExprKind::Tuple(_)),
        "a call must not span lines"
    );
}

#[test]
fn optimize_clauses_once_each() {
    let d = parse_err("stage s = grpo(p, t) { optimize x weight 1 weight 2 }");
    assert_eq!(d.code, "E0014");
}

#[test]
fn keywords_may_name_arguments_and_settings() {
    let f = parse_ok(
        "stage s = grpo(p, t) { model = p\n branch b = rollout(x, model = \"reference\") }",
    );
    let Item::Stage(s) = &f.items[0] else {
        panic!()
    };
    let StageItem::Setting(field) = &s.body.as_ref().unwrap().items[0] else {
        panic!()
    };
    assert_eq!(field.name.name, "model");
}

#[test]
fn optimize_where_is_a_clause_in_any_order() {
    let optimize = |text: &str| {
        let f = parse_ok(text);
        let Item::Stage(s) = &f.items[0] else {
            panic!()
        };
        let StageItem::Optimize(o) = &s.body.as_ref().unwrap().items[0] else {
            panic!()
        };
        o.clone()
    };
    // A reduction's `where` stays inside its call; the bare one after the
    // target is the clause.
    let o = optimize("stage s = grpo(p, t) { optimize mean(x where c) - x where m weight 2 }");
    assert!(matches!(o.target.kind, ExprKind::Binary { .. }));
    let m = o.r#where.expect("the clause");
    assert!(
        matches!(&m.kind, ExprKind::Path(p) if p.dotted() == "m"),
        "{m:?}"
    );
    assert!(o.weight.is_some());
    // Before the other clauses, and after a `when ... else` target.
    let o = optimize("stage s = grpo(p, t) { optimize x where m and n on b scaled by s }");
    assert!(matches!(
        o.r#where.map(|m| m.kind),
        Some(ExprKind::Binary { .. })
    ));
    assert!(o.on.is_some() && o.scaled_by.is_some());
    let o = optimize("stage s = grpo(p, t) { optimize x when c else 0 where m }");
    assert!(matches!(o.target.kind, ExprKind::When { .. }));
    assert!(o.r#where.is_some());
    // Spans: the clause's expression only.
    let text = "stage s = grpo(p, t) { optimize x where kept }";
    let m = optimize(text).r#where.unwrap();
    assert_eq!(&text[m.span.range()], "kept");
    // Once only.
    let d = parse_err("stage s = grpo(p, t) { optimize x where a where b }");
    assert_eq!(d.code, "E0014");
    assert!(d.help.as_deref().unwrap_or("").contains("`where`"), "{d:?}");
    // A `where` with nothing after it names what was expected.
    let d = parse_err("stage s = grpo(p, t) { optimize x where }");
    assert!(d.message.contains("an expression"), "{}", d.message);
}
