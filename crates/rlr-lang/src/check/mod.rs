//! Checking: names, types, scopes, ranges, cycles and usage, all errors at
//! once; the result is an [`ir::Program`].
//!
//! Per stage the passes are: collect bindings, order them by their syntactic
//! references (a cycle is reported with its full path), type each binding in
//! that order (expanding user functions), then type filters and objectives,
//! and finally build the DAG and warn about unused bindings.

#[cfg(test)]
mod const_binding_tests;
mod consts;
mod expr;
#[cfg(test)]
mod relate_tests;
mod stage;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use crate::ast::{self, DeclKind, Item};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::ir::{self, Const};
use crate::registry::{self, Category, ParamType, RECIPE_FIELDS};
use crate::source::{SourceId, Span};

pub use consts::describe as describe_const;

/// Everything checked at the top level of a recipe.
pub(crate) struct Checker<'a> {
    pub diags: Vec<Diagnostic>,
    /// User functions by name, from the recipe and its imports.
    pub fns: HashMap<String, &'a ast::FnDef>,
    /// Declared models, tasks and tools.
    pub decls: HashMap<String, (DeclKind, Span)>,
    /// Declared tasks' constructors (their sample fields type `sample.x`).
    pub tasks: HashMap<String, &'static registry::Builtin>,
    /// Sample fields a task declares itself (`jsonl(fields = [...])`), as text.
    pub task_fields: HashMap<String, Vec<String>>,
    /// Functions called at least once.
    pub used_fns: std::collections::HashSet<String>,
}

/// Checks parsed files (the root first) and compiles them.
pub fn check(files: &[(SourceId, ast::File)]) -> (Option<ir::Program>, Vec<Diagnostic>) {
    let mut c = Checker {
        diags: Vec::new(),
        fns: HashMap::new(),
        decls: HashMap::new(),
        tasks: HashMap::new(),
        task_fields: HashMap::new(),
        used_fns: Default::default(),
    };
    let Some((_, root)) = files.first() else {
        return (None, c.diags);
    };
    // Functions from every file share one namespace.
    let mut fn_spans: HashMap<String, Span> = HashMap::new();
    for (_, file) in files {
        for item in &file.items {
            if let Item::Fn(f) = item {
                c.define_fn(f, &mut fn_spans);
            }
        }
    }
    if root.items.is_empty() {
        c.diags.push(
            Diagnostic::error("E0111", "this file is empty: it defines no recipe", Span::new(root.span.source, 0, 0))
                .help("start with `recipe \"NAME\" { seed = 1 }`, then declare a model, a task and a stage"),
        );
        return (None, c.diags);
    }
    let program = c.program(root);
    // A file of functions alone is a library: its functions are for others to call.
    let library = root
        .items
        .iter()
        .all(|i| matches!(i, Item::Fn(_) | Item::Import(_)));
    for item in root.items.iter().filter(|_| !library) {
        if let Item::Fn(f) = item
            && c.fns
                .get(&f.name.name)
                .is_some_and(|def| std::ptr::eq(*def, f))
            && !c.used_fns.contains(&f.name.name)
        {
            c.diags.push(
                Diagnostic::warning(
                    "W0102",
                    format!("function `{}` is never called", f.name.name),
                    f.name.span,
                )
                .help("remove it, or move it to a library file that recipes import"),
            );
        }
    }
    let ok = !c.diags.iter().any(Diagnostic::is_error);
    c.diags
        .sort_by_key(|d| (d.primary.span.source, d.primary.span.start, d.code));
    (program.filter(|_| ok), c.diags)
}

/// Names no binding, function or declaration may take, because they already mean something.
fn reserved_meaning(name: &str) -> Option<String> {
    if name == "sample" || registry::CONTEXT.iter().any(|c| c.name == name) {
        return Some(format!(
            "`{name}` is a context name every expression can read"
        ));
    }
    if name == "judge" || name == "advantage" {
        return Some(format!(
            "`{name}` is the namespace of built-ins such as `{name}.…`"
        ));
    }
    None
}

impl<'a> Checker<'a> {
    fn define_fn(&mut self, f: &'a ast::FnDef, spans: &mut HashMap<String, Span>) {
        let name = &f.name.name;
        if let Some(prev) = spans.get(name) {
            self.diags.push(
                Diagnostic::error(
                    "E0101",
                    format!("the function `{name}` is defined twice"),
                    f.name.span,
                )
                .with(*prev, "first defined here")
                .help("rename one of them"),
            );
            return;
        }
        if registry::lookup(name).is_some() {
            self.diags.push(
                Diagnostic::error(
                    "E0103",
                    format!("`{name}` is a built-in; a function cannot take its name"),
                    f.name.span,
                )
                .help(format!(
                    "choose another name; `rlr explain {name}` shows the built-in"
                )),
            );
            return;
        }
        if let Some(why) = reserved_meaning(name) {
            self.diags
                .push(Diagnostic::error("E0104", why, f.name.span).help("choose another name"));
            return;
        }
        let mut params: HashMap<&str, Span> = HashMap::new();
        for p in &f.params {
            if let Some(prev) = params.insert(&p.name.name, p.name.span) {
                self.diags.push(
                    Diagnostic::error(
                        "E0101",
                        format!("the parameter `{}` is listed twice", p.name.name),
                        p.name.span,
                    )
                    .with(prev, "first listed here"),
                );
            }
        }
        spans.insert(name.clone(), f.name.span);
        self.fns.insert(name.clone(), f);
    }

    fn program(&mut self, root: &'a ast::File) -> Option<ir::Program> {
        let mut name = None;
        let mut meta = BTreeMap::new();
        let mut header_span: Option<Span> = None;
        let mut decls = Vec::new();
        let mut stages = Vec::new();
        let mut stage_names: HashMap<String, Span> = HashMap::new();
        let mut pending = Vec::new();

        for item in &root.items {
            match item {
                Item::Recipe(r) => {
                    if let Some(prev) = header_span {
                        self.diags.push(
                            Diagnostic::error("E0101", "a recipe has one `recipe` header", r.span)
                                .with(prev, "the first header")
                                .help("merge the two headers"),
                        );
                        continue;
                    }
                    header_span = Some(r.span);
                    name = Some(r.name.value.clone());
                    meta = self.recipe_fields(r);
                }
                Item::Decl(d) if self.declare(d) => {
                    pending.push(d);
                }
                _ => {}
            }
        }
        // Declarations may refer to each other in any order (`tool search = kb_lookup(train)`).
        for d in pending {
            if let Some(decl) = self.decl(d) {
                decls.push(decl);
            }
        }
        for item in &root.items {
            if let Item::Stage(s) = item {
                if let Some(prev) = stage_names.insert(s.name.name.clone(), s.name.span) {
                    self.diags.push(
                        Diagnostic::error(
                            "E0101",
                            format!("the stage `{}` is defined twice", s.name.name),
                            s.name.span,
                        )
                        .with(prev, "first defined here"),
                    );
                    continue;
                }
                if let Some(stage) = stage::check_stage(self, s) {
                    stages.push(stage);
                }
            }
        }
        let has_content = root
            .items
            .iter()
            .any(|i| matches!(i, Item::Stage(_) | Item::Decl(_) | Item::Recipe(_)));
        if has_content && header_span.is_none() {
            self.diags.push(
                Diagnostic::error("E0105", "this recipe has no `recipe` header", Span::new(root.span.source, 0, 0))
                    .help("start the file with e.g. `recipe \"My method\" { paper = \"arXiv:…\", seed = 1 }`"),
            );
        }
        if has_content && !root.items.iter().any(|i| matches!(i, Item::Stage(_))) {
            self.diags.push(
                Diagnostic::error(
                    "E0106",
                    "this recipe has no stage, so it would train nothing",
                    Span::new(root.span.source, 0, 0),
                )
                .help("add e.g. `stage rl = grpo(policy, train) { ... }`"),
            );
        }
        Some(ir::Program {
            name: name.unwrap_or_default(),
            meta,
            decls,
            stages,
        })
    }

    fn recipe_fields(&mut self, r: &ast::RecipeMeta) -> BTreeMap<String, Const> {
        let mut out = BTreeMap::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let no_names = |_: &str| false;
        let empty = BTreeMap::new();
        let env = consts::ConstEnv {
            settings: &empty,
            names: &no_names,
            declared: &[],
            bindings: &consts::no_bindings,
        };
        for f in &r.fields {
            let key = f.name.name.as_str();
            if let Some(prev) = seen.insert(key, f.name.span) {
                self.diags.push(
                    Diagnostic::error("E0101", format!("`{key}` is set twice"), f.name.span)
                        .with(prev, "first set here"),
                );
                continue;
            }
            let Some(spec) = RECIPE_FIELDS.iter().find(|p| p.name == key) else {
                let mut d = Diagnostic::error(
                    "E0107",
                    format!("`{key}` is not a recipe field"),
                    f.name.span,
                )
                .label("unknown field");
                d = match did_you_mean(key, RECIPE_FIELDS.iter().map(|p| p.name)) {
                    Some(m) => d.help(format!("did you mean `{m}`?")),
                    None => d.help(format!(
                        "recipe fields are {}",
                        RECIPE_FIELDS
                            .iter()
                            .map(|p| format!("`{}`", p.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                self.diags.push(d);
                continue;
            };
            match consts::eval(&f.value, &env).and_then(|v| consts::conform(v, spec, &f.value)) {
                Ok(v) => {
                    out.insert(key.to_string(), v);
                }
                Err(d) => self.diags.push(d),
            }
        }
        for spec in RECIPE_FIELDS {
            if !out.contains_key(spec.name)
                && let Some(v) = spec.default.and_then(|d| consts::default_const(d, &empty))
            {
                out.insert(spec.name.to_string(), v);
            }
        }
        out
    }

    /// Registers a declaration's name; false if it is taken or reserved.
    fn declare(&mut self, d: &ast::Decl) -> bool {
        let name = &d.name.name;
        if let Some((_, prev)) = self.decls.get(name) {
            self.diags.push(
                Diagnostic::error("E0101", format!("`{name}` is declared twice"), d.name.span)
                    .with(*prev, "first declared here")
                    .help("give each model, task and tool its own name"),
            );
            return false;
        }
        if let Some(why) = reserved_meaning(name) {
            self.diags
                .push(Diagnostic::error("E0104", why, d.name.span).help("choose another name"));
            return false;
        }
        self.decls.insert(name.clone(), (d.kind, d.name.span));
        true
    }

    fn decl(&mut self, d: &ast::Decl) -> Option<ir::Decl> {
        let name = &d.name.name;
        let want = match d.kind {
            DeclKind::Model => Category::Model,
            DeclKind::Task => Category::Task,
            DeclKind::Tool => Category::Tool,
        };
        let callee = d.value.callee.dotted();
        let Some(builtin) = registry::lookup(&callee).filter(|b| b.category == want) else {
            let names = registry::names_in(|c| c == want);
            let mut diag = Diagnostic::error(
                "E0108",
                format!("there is no {} called `{callee}`", d.kind.keyword()),
                d.value.callee.span,
            )
            .label(format!("unknown {}", d.kind.keyword()));
            diag = match did_you_mean(&callee, names.iter().copied()) {
                Some(m) => diag.help(format!("did you mean `{m}`?")),
                None => diag.help(format!("available: {}", names.join(", "))),
            };
            self.diags.push(diag);
            return None;
        };
        if d.kind == DeclKind::Task {
            self.tasks.insert(name.clone(), builtin);
        }
        let args = self.const_args(builtin, &d.value, &BTreeMap::new())?;
        if let Some(Const::List(fields)) = args.get("fields").filter(|_| d.kind == DeclKind::Task) {
            let names = fields
                .iter()
                .filter_map(|f| match f {
                    Const::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            self.task_fields.insert(name.clone(), names);
        }
        Some(ir::Decl {
            kind: d.kind,
            name: name.clone(),
            builtin: builtin.name,
            args,
            span: d.span,
        })
    }

    /// Matches a call whose parameters are all constants or declared names
    /// (declarations, stage headers, branches); fills in defaults. Problems are
    /// reported, and what is valid is returned so that checking can go on.
    pub(crate) fn const_args(
        &mut self,
        builtin: &'static registry::Builtin,
        call: &ast::Call,
        settings: &BTreeMap<String, Const>,
    ) -> Option<BTreeMap<String, Const>> {
        let decls = &self.decls;
        let names = |n: &str| decls.contains_key(n);
        let declared: Vec<&str> = decls.keys().map(String::as_str).collect();
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        let (matched, problems) = expr::match_args(builtin, call);
        errors.extend(problems);
        let mut missing = Vec::new();
        for (param, arg) in matched {
            let Some(arg) = arg else {
                missing.push(param);
                continue;
            };
            if arg.filter.is_some() {
                errors.push(Diagnostic::error(
                    "E0220",
                    "`where` only applies to reductions",
                    arg.span,
                ));
                continue;
            }
            // Settings may refer to settings given before them (`minibatch = prompts`).
            let mut scope = settings.clone();
            scope.extend(
                out.iter()
                    .map(|(k, v): (&String, &Const)| (k.clone(), v.clone())),
            );
            let env = consts::ConstEnv {
                settings: &scope,
                names: &names,
                declared: &declared,
                bindings: &consts::no_bindings,
            };
            match consts::eval(&arg.value, &env) {
                Ok(v) => match self.conform_named(v, param, &arg.value) {
                    Ok(v) => {
                        out.insert(param.name.to_string(), v);
                    }
                    Err(d) => errors.push(d),
                },
                Err(d) => errors.push(d),
            }
        }
        // Defaults may refer to other settings (`over = steps`), so they come last.
        for param in missing {
            let mut scope = settings.clone();
            scope.extend(out.clone());
            if let Some(v) = param.default.and_then(|d| consts::default_const(d, &scope)) {
                out.insert(param.name.to_string(), v);
            }
        }
        self.diags.extend(errors);
        // Arguments that failed are left out; checking goes on with defaults so
        // that later errors are found too (the program is discarded anyway).
        Some(out)
    }

    /// Like [`consts::conform`], also accepting declared names for model, task, tool and branch parameters.
    pub(crate) fn conform_named(
        &self,
        v: Const,
        param: &registry::ParamSpec,
        e: &ast::Expr,
    ) -> Result<Const, Diagnostic> {
        let want = match param.ty {
            ParamType::Model => Some(DeclKind::Model),
            ParamType::Task => Some(DeclKind::Task),
            ParamType::Tools => Some(DeclKind::Tool),
            _ => None,
        };
        let Some(want) = want else {
            return consts::conform(v, param, e);
        };
        let check_one = |c: &Const, span: Span| -> Result<(), Diagnostic> {
            match c {
                Const::Name(n) => match self.decls.get(n) {
                    Some((k, _)) if *k == want => Ok(()),
                    Some((k, at)) => Err(Diagnostic::error(
                        "E0109",
                        format!(
                            "`{}` expects a {}, but `{n}` is a {}",
                            param.name,
                            want.keyword(),
                            k.keyword()
                        ),
                        span,
                    )
                    .with(*at, "declared here")
                    .help("check the order of the arguments")),
                    None => Err(Diagnostic::error(
                        "E0110",
                        format!("`{n}` is not declared"),
                        span,
                    )),
                },
                other => Err(Diagnostic::error(
                    "E0109",
                    format!(
                        "`{}` expects a declared {}, found {}",
                        param.name,
                        want.keyword(),
                        consts::describe(other)
                    ),
                    span,
                )
                .help(format!(
                    "declare one with `{} NAME = ...` and pass its name",
                    want.keyword()
                ))),
            }
        };
        match (&v, param.ty) {
            (Const::List(items), ParamType::Tools) => {
                let spans: Vec<Span> = match &e.kind {
                    ast::ExprKind::List(es) => es.iter().map(|x| x.span).collect(),
                    _ => vec![e.span; items.len()],
                };
                for (c, s) in items.iter().zip(spans) {
                    check_one(c, s)?;
                }
                Ok(v)
            }
            (_, ParamType::Tools) => {
                check_one(&v, e.span)?;
                Ok(Const::List(vec![v]))
            }
            _ => {
                check_one(&v, e.span)?;
                Ok(v)
            }
        }
    }
}
