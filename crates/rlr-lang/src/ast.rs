//! The syntax tree of one `.rlr` file, exactly as written (before imports,
//! function expansion and checking). Every node carries its [`Span`].

use crate::source::Span;

/// A name as written, with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A whole file: its items in order, and its comments (kept for `rlr fmt`).
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// Top-level items in source order.
    pub items: Vec<Item>,
    /// Every `# ...` comment, in source order.
    pub comments: Vec<Comment>,
    /// The whole file.
    pub span: Span,
}

/// A `# ...` comment; `text` excludes the `#` and the line end.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    /// Text after `#`.
    pub text: String,
    /// The `#` up to the end of the line.
    pub span: Span,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `import "lib/trust.rlr"`
    Import(Import),
    /// `recipe "PEARL" { paper = "arXiv:2511.18437", seed = 7 }`
    Recipe(RecipeMeta),
    /// `model policy = gpt(...)`, `task train = arith(...)`, `tool search = kb_lookup(train)`
    Decl(Decl),
    /// `fn trust(score, correct) = ...` or `fn name(params) { bindings... result }`
    Fn(FnDef),
    /// `stage rl = grpo(policy, train) { ... }`
    Stage(Stage),
}

impl Item {
    /// The item's whole span.
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Recipe(r) => r.span,
            Item::Decl(d) => d.span,
            Item::Fn(f) => f.span,
            Item::Stage(s) => s.span,
        }
    }
}

/// `import "path.rlr"`: brings the functions defined in another file into scope.
#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    /// The path, relative to the importing file.
    pub path: StrLit,
    /// The whole item.
    pub span: Span,
}

/// A string literal: its value after escapes, and its place.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    /// The value, escapes resolved.
    pub value: String,
    /// The literal including quotes.
    pub span: Span,
}

/// `recipe "NAME" { key = value, ... }`: the recipe's metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct RecipeMeta {
    /// The recipe's display name.
    pub name: StrLit,
    /// `paper`, `seed`, ...
    pub fields: Vec<Field>,
    /// The whole item.
    pub span: Span,
}

/// `name = value`: a recipe field or a stage setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The key.
    pub name: Ident,
    /// The value.
    pub value: Expr,
    /// `name = value`.
    pub span: Span,
}

/// What a declaration declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeclKind {
    /// `model`
    Model,
    /// `task`
    Task,
    /// `tool`
    Tool,
}

impl DeclKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Model => "model",
            DeclKind::Task => "task",
            DeclKind::Tool => "tool",
        }
    }
}

/// `model NAME = CALL`, `task NAME = CALL`, `tool NAME = CALL`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// Model, task or tool.
    pub kind: DeclKind,
    /// The declared name.
    pub name: Ident,
    /// The constructor call.
    pub value: Call,
    /// The whole item.
    pub span: Span,
}

/// `fn NAME(PARAMS) = EXPR` or `fn NAME(PARAMS) { BINDINGS... EXPR }`:
/// a reward function expanded at compile time where it is called.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    /// The function's name.
    pub name: Ident,
    /// Its parameters, in order.
    pub params: Vec<Param>,
    /// Local bindings (empty for the `= EXPR` form).
    pub bindings: Vec<Binding>,
    /// The result.
    pub result: Expr,
    /// Whether it was written with a block body.
    pub block: bool,
    /// The whole item.
    pub span: Span,
}

/// `name` or `name = default` in a function's parameter list.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter's name.
    pub name: Ident,
    /// Its default value, if any.
    pub default: Option<Expr>,
    /// The whole parameter.
    pub span: Span,
}

/// `stage NAME = KIND(model, task, settings...) { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// The stage's name.
    pub name: Ident,
    /// The stage kind and its arguments, e.g. `grpo(policy, train, steps = 300)`.
    pub header: Call,
    /// The body, if written.
    pub body: Option<StageBody>,
    /// The whole item.
    pub span: Span,
}

/// `{ ... }` after a stage header.
#[derive(Clone, Debug, PartialEq)]
pub struct StageBody {
    /// Settings, branches, reward blocks, filters and objectives in source order.
    pub items: Vec<StageItem>,
    /// The braces and everything between.
    pub span: Span,
}

/// One statement in a stage body.
#[derive(Clone, Debug, PartialEq)]
pub enum StageItem {
    /// `steps = 300`
    Setting(Field),
    /// `branch probe = rollout(sample.checklist_prompt, n = group)`
    Branch(Branch),
    /// `reward { ... }`
    Reward(RewardBlock),
    /// `halt when COND [unless CHANCE]` or `drop when COND [unless CHANCE]`
    Filter(Filter),
    /// `optimize EXPR [on BRANCH] [scaled by EXPR] [weight EXPR] [where EXPR]`
    /// (boxed: four clauses make it the largest item by far)
    Optimize(Box<Optimize>),
}

impl StageItem {
    /// The statement's whole span.
    pub fn span(&self) -> Span {
        match self {
            StageItem::Setting(f) => f.span,
            StageItem::Branch(b) => b.span,
            StageItem::Reward(r) => r.span,
            StageItem::Filter(f) => f.span,
            StageItem::Optimize(o) => o.span,
        }
    }
}

/// `branch NAME = rollout(...)`: an auxiliary set of rollouts with its own groups.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// The branch's name (`probe`).
    pub name: Ident,
    /// Its constructor.
    pub value: Call,
    /// The whole statement.
    pub span: Span,
}

/// `reward { BINDINGS }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RewardBlock {
    /// The bindings, each a node of the reward graph.
    pub bindings: Vec<Binding>,
    /// The whole block.
    pub span: Span,
}

/// `name = EXPR [else FALLBACK]`: one node of the reward graph.
///
/// The fallback is the value taken where a `where` partition the expression
/// reduces over is empty.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The node's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// `else FALLBACK`.
    pub fallback: Option<Expr>,
    /// The whole binding.
    pub span: Span,
}

/// When a filter acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterKind {
    /// `halt when ...`: before the main rollouts; halted prompts get none.
    Halt,
    /// `drop when ...`: after the main rollouts; dropped groups are replaced by new ones.
    Drop,
}

impl FilterKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            FilterKind::Halt => "halt",
            FilterKind::Drop => "drop",
        }
    }
}

/// `halt when COND [unless BYPASS]` / `drop when COND [unless BYPASS]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// Before or after rollout.
    pub kind: FilterKind,
    /// Group-level condition under which a prompt is removed.
    pub cond: Expr,
    /// Group-level condition that keeps it anyway (e.g. `chance(0.3)`).
    pub unless: Option<Expr>,
    /// The whole statement.
    pub span: Span,
}

/// `optimize EXPR [on BRANCH] [scaled by EXPR] [weight EXPR] [where EXPR]`: one policy-gradient term.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimize {
    /// The reward whose advantages drive this term.
    pub target: Expr,
    /// The branch whose rollouts are trained on (default: the main rollouts).
    pub on: Option<Ident>,
    /// A multiplier on the advantages (PEARL's evidence weight, a token mask).
    pub scaled_by: Option<Expr>,
    /// The term's weight in the loss.
    pub weight: Option<Expr>,
    /// `where M`: the rollouts (a response bool) or tokens (a token bool) the
    /// term trains on; the others are out of its estimator and its loss.
    pub r#where: Option<Expr>,
    /// The whole statement.
    pub span: Span,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is (parentheses excluded).
    pub span: Span,
}

/// Expression forms, each with the syntax it stands for.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `3`, `0.5`, `3e-4`: the value and the text as written.
    Number {
        /// The value.
        value: f64,
        /// The text as written (kept by `rlr fmt`).
        raw: String,
    },
    /// `"text"`
    Str(String),
    /// `true`, `false`
    Bool(bool),
    /// `name`, `sample.answer`, `probe.text`
    Path(Path),
    /// `f(a, b = 1)`, `judge.steps(think, sample)`
    Call(Call),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `(a, b)` (two or more elements)
    Tuple(Vec<Expr>),
    /// `-x`, `not x`
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its operand.
        operand: Box<Expr>,
    },
    /// `a + b`, `a and b`, `a <= b`, ...
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `if COND then A else B`: both sides evaluated, one selected.
    If {
        /// The condition (bool).
        cond: Box<Expr>,
        /// Value where true.
        then: Box<Expr>,
        /// Value where false.
        otherwise: Box<Expr>,
    },
    /// `VALUE when COND else DEFAULT`: VALUE is only computed where COND holds.
    When {
        /// The expensive value.
        value: Box<Expr>,
        /// Where to compute it.
        cond: Box<Expr>,
        /// The value elsewhere.
        otherwise: Box<Expr>,
    },
    /// `A -> B` inside a call: a schedule's start and end.
    Range {
        /// Start value.
        from: Box<Expr>,
        /// End value.
        to: Box<Expr>,
    },
}

/// A dotted name: `x`, `sample.answer`, `judge.steps`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The parts, at least one.
    pub segments: Vec<Ident>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path as written, joined with dots.
    pub fn dotted(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// `callee(args)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function's (dotted) name.
    pub callee: Path,
    /// The arguments in order.
    pub args: Vec<Arg>,
    /// The whole call.
    pub span: Span,
}

/// One call argument: `value`, `name = value`, or `value where PARTITION`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The parameter name, for named arguments.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
    /// `where COND`: restricts a reduction to the members where COND holds.
    pub filter: Option<Expr>,
    /// The whole argument.
    pub span: Span,
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

/// Infix operators, loosest first: `or`, `and`, comparisons, `+ -`, `* /`, `^`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a or b`
    Or,
    /// `a and b`
    And,
    /// `a == b`
    Eq,
    /// `a != b`
    Ne,
    /// `a < b`
    Lt,
    /// `a <= b`
    Le,
    /// `a > b`
    Gt,
    /// `a >= b`
    Ge,
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a ^ b`
    Pow,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Or => "or",
            And => "and",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Pow => "^",
        }
    }

    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        use BinaryOp::*;
        match self {
            Or => 1,
            And => 2,
            Eq | Ne | Lt | Le | Gt | Ge => 4,
            Add | Sub => 5,
            Mul | Div => 6,
            Pow => 8,
        }
    }

    /// Whether the operator compares (result is bool, operands real or label).
    pub fn is_comparison(self) -> bool {
        use BinaryOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge)
    }
}

impl UnaryOp {
    /// Binding strength, on the same scale as [`BinaryOp::precedence`].
    pub fn precedence(self) -> u8 {
        match self {
            UnaryOp::Not => 3,
            UnaryOp::Neg => 7,
        }
    }
}
