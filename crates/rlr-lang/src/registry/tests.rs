//! Consistency checks over the whole registry.

use std::collections::BTreeSet;

use super::*;

fn families() -> Vec<Family> {
    // Adding a family without listing it here fails to compile.
    let all = [
        Family::Verify,
        Family::Judge,
        Family::Probe,
        Family::Rollout,
        Family::Map,
        Family::Combine,
        Family::Reduce,
        Family::Normalize,
        Family::Relate,
        Family::Gate,
        Family::Schedule,
        Family::RunningStat,
        Family::Filter,
        Family::Place,
        Family::Scan,
        Family::Advantage,
        Family::Weight,
    ];
    for f in all {
        match f {
            Family::Verify
            | Family::Judge
            | Family::Probe
            | Family::Rollout
            | Family::Map
            | Family::Combine
            | Family::Reduce
            | Family::Normalize
            | Family::Relate
            | Family::Gate
            | Family::Schedule
            | Family::RunningStat
            | Family::Filter
            | Family::Place
            | Family::Scan
            | Family::Advantage
            | Family::Weight => {}
        }
    }
    all.to_vec()
}

fn default_fits(ty: &ParamType, d: &DefaultValue) -> bool {
    match (ty, d) {
        (ParamType::Real | ParamType::Int, DefaultValue::Ref(_)) => true,
        (ParamType::Signal { kinds, .. }, DefaultValue::Real(_)) => kinds.contains(&Kind::Real),
        (ParamType::Signal { kinds, .. }, DefaultValue::Bool(_)) => kinds.contains(&Kind::Bool),
        (ParamType::Real, DefaultValue::Real(_))
        | (ParamType::Int, DefaultValue::Int(_))
        | (ParamType::Bool, DefaultValue::Bool(_))
        | (ParamType::Str, DefaultValue::Str(_))
        | (ParamType::RealPair, DefaultValue::Pair(..) | DefaultValue::Real(_))
        | (
            ParamType::StrList | ParamType::RealList | ParamType::Points | ParamType::Tools,
            DefaultValue::EmptyList,
        ) => true,
        (ParamType::Choice(choices), DefaultValue::Str(s)) => choices.contains(s),
        _ => false,
    }
}

fn default_in_range(range: &NumRange, d: &DefaultValue) -> bool {
    match d {
        DefaultValue::Real(x) => range.contains(*x),
        DefaultValue::Int(n) => range.contains(*n as f64),
        DefaultValue::Pair(a, b) => range.contains(*a) && range.contains(*b),
        _ => true,
    }
}

fn check_params(owner: &str, params: &[ParamSpec]) {
    let mut seen = BTreeSet::new();
    for p in params {
        assert!(seen.insert(p.name), "{owner}: parameter `{}` twice", p.name);
        assert!(!p.doc.is_empty(), "{owner}.{}: no doc", p.name);
        if let Some(d) = &p.default {
            assert!(
                default_fits(&p.ty, d),
                "{owner}.{}: default {d:?} does not fit {:?}",
                p.name,
                p.ty
            );
            if let Some(r) = &p.range {
                assert!(
                    default_in_range(r, d),
                    "{owner}.{}: default {d:?} outside {r}",
                    p.name
                );
            }
        }
        if let Some(r) = &p.range {
            assert!(
                matches!(
                    p.ty,
                    ParamType::Real | ParamType::Int | ParamType::RealPair | ParamType::RealList
                ),
                "{owner}.{}: a range on a non-numeric parameter",
                p.name
            );
            if let (Some(lo), Some(hi)) = (r.min, r.max) {
                assert!(lo <= hi, "{owner}.{}: empty range {r}", p.name);
            }
        }
        if let ParamType::Choice(choices) = p.ty {
            let distinct: BTreeSet<_> = choices.iter().collect();
            assert_eq!(
                distinct.len(),
                choices.len(),
                "{owner}.{}: repeated choice",
                p.name
            );
        }
    }
}

fn nodes_of(family: Family) -> Vec<&'static Builtin> {
    all()
        .into_iter()
        .filter(|b| b.category == Category::Node(family))
        .collect()
}

#[test]
fn names_are_unique_across_categories() {
    let mut seen = BTreeSet::new();
    for b in all() {
        assert!(seen.insert(b.name), "`{}` is registered twice", b.name);
    }
}

#[test]
fn lookup_finds_every_name() {
    for b in all() {
        let found = lookup(b.name).expect("registered name");
        assert_eq!(found.name, b.name);
        assert_eq!(found.category, b.category);
    }
    assert!(lookup("no_such_builtin").is_none());
}

#[test]
fn names_the_recipes_use_exist() {
    let required = [
        // verifiers
        "exact",
        "numeric_equal",
        "math_equal",
        "boxed",
        "last_number",
        "tag",
        "matches",
        "token_f1",
        "jaccard",
        "tool_call_match",
        "toolrl_format",
        "length_of",
        "ngram_repetition",
        "phrase_count",
        "json_valid",
        "answers_correct",
        "atomic_format",
        "segments",
        "steps_of",
        "overlong",
        // judges and probes
        "judge.steps",
        "judge.atoms",
        "judge.principle",
        "judge.prm",
        "judge.reader",
        "judge.rubric",
        "judge.listener",
        "judge.embed",
        "judge.reward_model",
        "logprob_of",
        "perplexity",
        "answer_likelihood",
        "rollout",
        // maths and combinators
        "exp",
        "log",
        "sqrt",
        "abs",
        "sigmoid",
        "log_sigmoid",
        "tanh",
        "clamp",
        "maximum",
        "minimum",
        "weighted_sum",
        "product",
        "mean_minus_std",
        "first_valid",
        // reductions
        "mean",
        "std",
        "sum",
        "count",
        "any",
        "all",
        "mode",
        "quantile",
        "median",
        "max",
        "min",
        // normalisers, relations, gates
        "zscore",
        "center",
        "minmax",
        "rank",
        "renorm",
        "par",
        "lsc",
        "novelty",
        "cosine_to_group",
        "similarity",
        "relate",
        "gate",
        "gated_sum",
        "gra",
        // schedules and running statistics
        "constant",
        "linear",
        "cosine",
        "exponential",
        "piecewise",
        "curriculum",
        "warmup",
        "running_mean",
        "running_zscore",
        "ema",
        "running_minmax",
        // filters, placement, scans
        "chance",
        "flip",
        "place",
        "spread",
        "return_to_go",
        "first_difference",
        "cumsum",
        "cummax",
        // advantages and weights
        "advantage.grpo",
        "advantage.dr_grpo",
        "advantage.rloo",
        "advantage.reinforce_pp",
        "advantage.per_position",
        "mask",
        "forking_tokens",
        "tool_output_mask",
        // models, tasks, tools, stages
        "gpt",
        "load",
        "arith",
        "arith_chain",
        "evidence_math",
        "multihop_kb",
        "tool_call",
        "countdown",
        "safety",
        "jsonl",
        "kb_lookup",
        "calculator",
        "sft",
        "grpo",
        "dapo",
        "dr_grpo",
        "rloo",
        "reinforce_pp",
        "gspo",
    ];
    for name in required {
        assert!(lookup(name).is_some(), "`{name}` is missing");
    }
}

#[test]
fn defaults_fit_types_ranges_and_choices() {
    for b in all() {
        check_params(b.name, b.params);
    }
    check_params("recipe", RECIPE_FIELDS);
}

#[test]
fn every_family_has_a_builtin() {
    for f in families() {
        assert!(!nodes_of(f).is_empty(), "family {} is empty", f.name());
    }
}

#[test]
fn every_node_kind_of_methods_p2_is_covered() {
    // Kinds 1–17 are the families; kind 18, Objective, is the RL stage settings.
    assert_eq!(families().len(), 17);
    let objective = [
        "clip",
        "dual_clip",
        "loss_agg",
        "importance",
        "kl",
        "kl_estimator",
        "kl_in",
        "kl_anchor",
        "anchor_every",
        "entropy_coef",
        "entropy_band",
        "entropy_band_coef",
    ];
    for stage in ["grpo", "dapo", "dr_grpo", "rloo", "reinforce_pp", "gspo"] {
        let b = lookup(stage).expect("stage");
        for setting in objective {
            assert!(b.param(setting).is_some(), "{stage} lacks `{setting}`");
        }
    }
    let sft = lookup("sft").expect("sft");
    let weighting = sft.param("weighting").expect("sft weighting");
    assert!(
        matches!(weighting.ty, ParamType::Choice(c) if c.contains(&"dft") && c.contains(&"asft"))
    );
    // Filter statements need a random bypass; advantages need the §P.2 estimators.
    assert!(lookup("chance").is_some());
    let estimators: Vec<_> = nodes_of(Family::Advantage).iter().map(|b| b.name).collect();
    for e in ["grpo", "dr_grpo", "rloo", "reinforce_pp", "per_position"] {
        assert!(estimators.contains(&format!("advantage.{e}").as_str()));
        let choice = lookup("grpo")
            .and_then(|b| b.param("advantage"))
            .expect("setting");
        assert!(matches!(choice.ty, ParamType::Choice(c) if c.contains(&e)));
    }
}

#[test]
fn node_shapes_are_consistent() {
    for b in all() {
        assert!(!b.doc.is_empty(), "{}: no doc", b.name);
        assert!(!b.source.is_empty(), "{}: no source", b.name);
        if let Some(NumRange {
            min: Some(lo),
            max: Some(hi),
            ..
        }) = b.output.range
        {
            assert!(lo <= hi, "{}: empty output range", b.name);
        }
        let Category::Node(family) = b.category else {
            assert!(
                !b.variadic && !b.partition,
                "{}: only nodes take signals",
                b.name
            );
            continue;
        };
        assert!(
            ["[CODE]", "[PAPER]", "[2ND]", "[INFER]"]
                .iter()
                .any(|t| b.source.contains(t)),
            "{}: source has no evidence tag",
            b.name
        );
        if b.variadic {
            let last = b.params.last().expect("variadic needs a parameter");
            assert!(matches!(last.ty, ParamType::Signal { .. }), "{}", b.name);
            assert!(
                last.default.is_none(),
                "{}: variadic signal is required",
                b.name
            );
        }
        if b.partition {
            let first = b.params.first().expect("partition needs a parameter");
            assert!(matches!(first.ty, ParamType::Signal { .. }), "{}", b.name);
        }
        match b.output.scope {
            ScopeRule::Reduce => {
                let over = b.param("over").expect("reductions take `over`");
                assert!(matches!(over.ty, ParamType::Choice(c) if c.contains(&"next")));
                assert_eq!(family, Family::Reduce, "{}", b.name);
                assert!(b.partition, "{}: reductions accept `where`", b.name);
            }
            ScopeRule::Place => assert!(b.param("at").is_some(), "{}", b.name),
            ScopeRule::Inputs => assert!(
                b.params
                    .iter()
                    .any(|p| matches!(p.ty, ParamType::Signal { .. })),
                "{}: Inputs scope needs a signal argument",
                b.name
            ),
            ScopeRule::Fixed(_) => {}
        }
        if family == Family::Judge {
            assert!(b.expensive, "{}: judges are expensive", b.name);
            let on_error = b.param("on_error").expect("judge on_error");
            assert_eq!(on_error.ty, ParamType::Choice(&["fail", "default", "skip"]));
            assert_eq!(on_error.default, Some(DefaultValue::Str("fail")));
            let default = b.param("default").expect("judge default");
            assert_eq!(default.default, Some(DefaultValue::Real(0.0)));
        }
        if family == Family::Schedule {
            assert_eq!(b.output.scope, ScopeRule::Fixed(Scope::Step), "{}", b.name);
        }
        if family == Family::Advantage {
            assert_eq!(b.output.scope, ScopeRule::Fixed(Scope::Token), "{}", b.name);
        }
    }
}

#[test]
fn references_name_stage_settings() {
    let grpo = lookup("grpo").expect("grpo");
    for b in all() {
        for p in b.params {
            if let Some(DefaultValue::Ref(name)) = p.default {
                assert!(
                    grpo.param(name).is_some(),
                    "{}.{} refers to unknown setting `{name}`",
                    b.name,
                    p.name
                );
            }
        }
    }
}

#[test]
fn stages_start_with_model_and_task_and_differ_where_methods_do() {
    for b in all().into_iter().filter(|b| b.category == Category::Stage) {
        assert_eq!(b.params[0].ty, ParamType::Model, "{}", b.name);
        assert_eq!(b.params[1].ty, ParamType::Task, "{}", b.name);
        assert!(b.params[0].default.is_none() && b.params[1].default.is_none());
    }
    let default = |stage: &str, setting: &str| {
        lookup(stage)
            .and_then(|b| b.param(setting))
            .and_then(|p| p.default)
            .expect("setting with default")
    };
    assert_eq!(default("grpo", "kl"), DefaultValue::Real(0.04));
    assert_eq!(default("grpo", "kl_estimator"), DefaultValue::Str("k3"));
    assert_eq!(default("grpo", "kl_in"), DefaultValue::Str("loss"));
    assert_eq!(default("grpo", "clip"), DefaultValue::Pair(0.2, 0.2));
    assert_eq!(
        default("grpo", "loss_agg"),
        DefaultValue::Str("seq-mean-token-mean")
    );
    assert_eq!(default("dapo", "clip"), DefaultValue::Pair(0.2, 0.28));
    assert_eq!(default("dapo", "loss_agg"), DefaultValue::Str("token-mean"));
    assert_eq!(default("dapo", "kl"), DefaultValue::Real(0.0));
    assert_eq!(
        default("dr_grpo", "advantage"),
        DefaultValue::Str("dr_grpo")
    );
    assert_eq!(
        default("dr_grpo", "loss_agg"),
        DefaultValue::Str("seq-mean-token-sum-norm")
    );
    assert_eq!(default("gspo", "importance"), DefaultValue::Str("sequence"));
}

#[test]
fn context_and_tasks_are_well_formed() {
    let mut seen = BTreeSet::new();
    for c in CONTEXT {
        assert!(seen.insert(c.name), "context `{}` twice", c.name);
        assert!(
            lookup(c.name).is_none(),
            "context `{}` shadows a built-in",
            c.name
        );
        assert!(!c.doc.is_empty());
    }
    for name in [
        "text",
        "think",
        "answer",
        "length",
        "truncated",
        "step",
        "sample",
    ] {
        assert!(
            CONTEXT.iter().any(|c| c.name == name),
            "context `{name}` missing"
        );
    }
    // Stage settings are names in expressions (`exp(-step / steps)`): none may hide a
    // context name.
    for b in all().into_iter().filter(|b| b.category == Category::Stage) {
        for p in b.params {
            assert!(
                CONTEXT.iter().all(|c| c.name != p.name),
                "{}: setting `{}` hides the context name",
                b.name,
                p.name
            );
        }
    }
    for b in all().into_iter().filter(|b| b.category == Category::Task) {
        let names: Vec<_> = b.sample_fields.iter().map(|f| f.name).collect();
        let distinct: BTreeSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{}: repeated field", b.name);
        assert!(
            names.contains(&"prompt") && names.contains(&"answer"),
            "{}",
            b.name
        );
        for f in b.sample_fields {
            assert_eq!(f.ty.scope, Scope::Group, "{}.{}", b.name, f.name);
        }
    }
    let evidence = lookup("evidence_math").expect("evidence_math");
    for f in ["checklist_prompt", "checklist_answers", "facts"] {
        assert!(evidence.sample_fields.iter().any(|s| s.name == f));
    }
}

#[test]
fn docs_render_for_every_builtin() {
    for b in all() {
        let text = explain(b);
        assert!(text.starts_with(&format!("{}(", b.name)), "{text}");
        assert!(text.contains("Source: "));
        let page = markdown(b);
        assert!(page.starts_with(&format!("# `{}`", b.name)));
        if !b.params.is_empty() {
            assert!(page.contains("| parameter | type | default | range | description |"));
        }
        for line in page.lines().filter(|l| l.starts_with("| `")) {
            // Every table row has exactly its columns: pipes inside cells are escaped.
            let cells = line.replace("\\|", "").matches('|').count();
            assert!(cells == 6 || cells == 4, "{}: bad row {line}", b.name);
        }
    }
    let mean = lookup("mean").expect("mean");
    assert_eq!(
        signature(mean),
        "mean(x [where COND], over = \"next\") -> real, one scope coarser than its input (or `over`)"
    );
    let maximum = lookup("maximum").expect("maximum");
    assert!(signature(maximum).starts_with("maximum(x, ...) -> real"));
    let grpo_kl = lookup("grpo")
        .and_then(|b| b.param("kl_estimator"))
        .expect("setting");
    assert_eq!(describe_type(&grpo_kl.ty), "one of \"k1\", \"k2\", \"k3\"");
    let exact = lookup("exact").expect("exact");
    assert_eq!(
        describe_type(&exact.params[0].ty),
        "response or segment label"
    );
    assert_eq!(describe_type(&ParamType::Real), "real constant");
    assert_eq!(describe_default(&DefaultValue::Real(1e-6)), "1e-6");
    assert_eq!(
        describe_default(&DefaultValue::Pair(0.2, 0.28)),
        "(0.2, 0.28)"
    );
    let explained = explain(lookup("judge.steps").expect("judge"));
    assert!(
        explained.contains("on_error: one of \"fail\", \"default\", \"skip\", default \"fail\"")
    );
}
