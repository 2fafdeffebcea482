//! `tool_call`: function calling in ToolRL's format.
//!
//! The task has a library of `functions` functions (a seeded choice from a
//! built-in catalogue, then invented record look-ups). A prompt lists the
//! functions available (the whole library when it has at most
//! [`MAX_LISTED`] functions, else the ones the request needs plus others up
//! to that many), how to answer, and a user request. The reference is
//! `<think>...</think>`, then either a `<tool_call>` block with one JSON
//! object `{"name": ..., "parameters": {...}}` per line (1 to `max_calls`
//! calls), optionally followed by a short `<response>` to the user, or — for
//! a share `no_call` of the prompts — only a `<response>`: a request no listed
//! function serves (answered with a refusal) or a small sum answered
//! directly.
//!
//! `listing` picks how the prompt lists a function: `"json"` (ToolRL's one
//! JSON description per line) or `"signature"` (`name(param: type, ...):
//! description`, a third of the characters, for CPU-sized runs where every
//! prompt character is a token at every step). `instruction` is the text
//! between the list and the request; `""` leaves it out.
//!
//! Fields: `tool_calls` is the reference `<tool_call>` block (empty if none),
//! `expected` the reference response after `</think>` (what `toolrl_format`
//! and `tool_call_match` compare with), `answer` the response's text when the
//! reference makes no call, else the call lines (one JSON object per line).

use rlr_lang::ir::{Const, Decl};
use serde_json::{Map, Value as Json, json};

use crate::{Rng, Sample, Split, Task, arg, fingerprint};

const NAME: &str = "tool_call";
/// Most functions listed in one prompt.
pub const MAX_LISTED: usize = 8;
/// Most functions a library may hold.
const MAX_FUNCTIONS: i64 = 10_000;
/// Most calls a reference may make.
const MAX_CALLS: i64 = 32;
/// The default text between the function list and the request.
pub const INSTRUCTION: &str = "First reason inside <think>...</think>. Then, to call functions, \
     write a <tool_call> block with one JSON object {\"name\": ..., \"parameters\": {...}} per \
     line, and/or reply to the user inside <response>...</response>.";
/// Draws per sample before using the build-time fallback.
const TRIES: usize = 1_000;
/// Draws at build time to find one problem of each split.
const SEARCH: usize = 100_000;

const CITIES: &[&str] = &[
    "Paris", "Oslo", "Rome", "Lima", "Cairo", "Tokyo", "Madrid", "Berlin", "Dublin", "Quito",
    "Nairobi", "Seoul", "Lisbon", "Vienna", "Prague", "Athens", "Havana", "Hanoi", "Toronto",
    "Sydney", "Denver", "Boston", "Chicago", "Mumbai", "Manila", "Bogota", "Warsaw", "Zurich",
    "Helsinki", "Santiago",
];
const CURRENCIES: &[&str] = &[
    "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NOK", "SEK", "INR",
];
const LANGUAGES: &[&str] = &[
    "Spanish", "French", "German", "Italian", "Japanese", "Korean", "Dutch", "Swahili",
];
const PHRASES: &[&str] = &[
    "good morning",
    "thank you very much",
    "where is the station",
    "how much does this cost",
    "I would like a coffee",
    "see you tomorrow",
    "the meeting is cancelled",
    "happy birthday",
    "please call me back",
    "the museum opens at nine",
];
const SYMBOLS: &[&str] = &[
    "AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "IBM", "ORCL", "INTC", "NFLX", "SAP",
];
const EXCHANGES: &[&str] = &["NASDAQ", "NYSE", "LSE", "XETRA"];
const TASKS: &[&str] = &[
    "call mom",
    "buy milk",
    "water the plants",
    "submit the report",
    "book a dentist appointment",
    "pay the rent",
    "walk the dog",
    "pick up the laundry",
    "renew my passport",
    "send the invoice",
];
const RESTAURANTS: &[&str] = &[
    "Luigi's",
    "The Blue Door",
    "Sakura House",
    "Casa Verde",
    "Le Petit Coin",
    "Spice Route",
    "Harbor Grill",
    "Olive Tree",
];
const TOPICS: &[&str] = &[
    "science",
    "sports",
    "technology",
    "politics",
    "health",
    "business",
    "travel",
    "music",
];
const SONGS: &[(&str, &str)] = &[
    ("Yesterday", "The Beatles"),
    ("Imagine", "John Lennon"),
    ("Hallelujah", "Leonard Cohen"),
    ("Respect", "Aretha Franklin"),
    ("Jolene", "Dolly Parton"),
    ("Vogue", "Madonna"),
    ("Hurt", "Johnny Cash"),
    ("Creep", "Radiohead"),
    ("Halo", "Beyonce"),
    ("Clocks", "Coldplay"),
];
const PEOPLE: &[&str] = &[
    "alice@example.com",
    "bob@example.com",
    "carol@example.com",
    "dan@example.com",
    "erin@example.com",
];
const SUBJECTS: &[&str] = &[
    "Quarterly report",
    "Lunch on Friday",
    "Project update",
    "Invoice 42",
    "Travel plans",
    "Team offsite",
];
const MODES: &[&str] = &["driving", "walking", "transit", "cycling"];
/// Things no catalogue function does, for refusals when every function is listed.
const UNSUPPORTED: &[&str] = &[
    "order a pizza to my house",
    "fix my printer",
    "water my garden",
    "walk my dog",
    "paint my kitchen",
];

/// One built-in function: name, description, parameters (name, JSON type, description).
struct Spec {
    name: &'static str,
    description: &'static str,
    params: &'static [(&'static str, &'static str, &'static str)],
    /// What the function does, for refusals ("get the weather").
    does: &'static str,
}

const CATALOGUE: &[Spec] = &[
    Spec {
        name: "get_weather",
        description: "Current weather in a city.",
        params: &[
            ("city", "string", "the city"),
            ("unit", "string", "celsius or fahrenheit"),
        ],
        does: "check the weather",
    },
    Spec {
        name: "convert_currency",
        description: "Convert an amount between currencies.",
        params: &[
            ("amount", "number", "the amount to convert"),
            ("from_currency", "string", "ISO code of the source currency"),
            ("to_currency", "string", "ISO code of the target currency"),
        ],
        does: "convert currencies",
    },
    Spec {
        name: "search_flights",
        description: "Search flights between two cities on a date.",
        params: &[
            ("origin", "string", "departure city"),
            ("destination", "string", "arrival city"),
            ("date", "string", "date as YYYY-MM-DD"),
        ],
        does: "search for flights",
    },
    Spec {
        name: "set_reminder",
        description: "Set a reminder at a time of day.",
        params: &[
            ("message", "string", "what to remind"),
            ("time", "string", "time as HH:MM"),
        ],
        does: "set reminders",
    },
    Spec {
        name: "translate_text",
        description: "Translate a text into another language.",
        params: &[
            ("text", "string", "the text"),
            (
                "target_language",
                "string",
                "the language to translate into",
            ),
        ],
        does: "translate text",
    },
    Spec {
        name: "get_stock_price",
        description: "Latest price of a stock on an exchange.",
        params: &[
            ("symbol", "string", "ticker symbol"),
            ("exchange", "string", "the exchange"),
        ],
        does: "look up stock prices",
    },
    Spec {
        name: "book_table",
        description: "Book a restaurant table.",
        params: &[
            ("restaurant", "string", "restaurant name"),
            ("party_size", "integer", "number of people"),
            ("time", "string", "time as HH:MM"),
        ],
        does: "book restaurant tables",
    },
    Spec {
        name: "calculate_tip",
        description: "Tip amount for a bill.",
        params: &[
            ("bill_amount", "number", "the bill"),
            ("tip_percent", "integer", "tip in percent"),
        ],
        does: "calculate tips",
    },
    Spec {
        name: "get_news",
        description: "Top news stories on a topic.",
        params: &[
            ("topic", "string", "the topic"),
            ("limit", "integer", "number of stories"),
        ],
        does: "fetch the news",
    },
    Spec {
        name: "play_music",
        description: "Play a song by an artist.",
        params: &[
            ("song", "string", "song title"),
            ("artist", "string", "the artist"),
        ],
        does: "play music",
    },
    Spec {
        name: "send_email",
        description: "Send an email.",
        params: &[
            ("recipient", "string", "email address"),
            ("subject", "string", "subject line"),
        ],
        does: "send emails",
    },
    Spec {
        name: "get_directions",
        description: "Directions between two places.",
        params: &[
            ("origin", "string", "start"),
            ("destination", "string", "end"),
            ("mode", "string", "driving, walking, transit or cycling"),
        ],
        does: "give directions",
    },
];

/// A function of the task's library: a catalogue entry or an invented record look-up.
#[derive(Clone, Debug)]
enum Function {
    Builtin(usize),
    /// `get_<stem>_record(record_id)`.
    Record(String),
}

impl Function {
    fn name(&self) -> String {
        match self {
            Function::Builtin(i) => CATALOGUE[*i].name.to_string(),
            Function::Record(stem) => format!("get_{stem}_record"),
        }
    }

    /// The function's description as listed in the prompt (one JSON object).
    fn listing(&self) -> Json {
        match self {
            Function::Builtin(i) => {
                let s = &CATALOGUE[*i];
                let mut params = Map::new();
                for (n, t, d) in s.params {
                    params.insert((*n).into(), json!({"type": t, "description": d}));
                }
                json!({"name": s.name, "description": s.description, "parameters": params})
            }
            Function::Record(stem) => json!({
                "name": self.name(),
                "description": format!("Fetch a {stem} record by its number."),
                "parameters": {"record_id": {"type": "integer", "description": "the record number"}},
            }),
        }
    }

    /// The function as one signature line: `name(param: type, ...): description`.
    fn signature(&self) -> String {
        match self {
            Function::Builtin(i) => {
                let s = &CATALOGUE[*i];
                let params: Vec<String> = s
                    .params
                    .iter()
                    .map(|(n, t, _)| format!("{n}: {t}"))
                    .collect();
                format!("{}({}): {}", s.name, params.join(", "), s.description)
            }
            Function::Record(stem) => format!(
                "{}(record_id: integer): Fetch a {stem} record by its number.",
                self.name()
            ),
        }
    }

    /// A request for one call, the call's parameters, and a short gloss for the reasoning.
    fn draw(&self, rng: &mut Rng) -> (String, Map<String, Json>, String) {
        let pick = |rng: &mut Rng, xs: &[&'static str]| -> &'static str {
            xs.get(rng.below(xs.len())).copied().unwrap_or("")
        };
        let mut p = Map::new();
        let (request, gloss) = match self {
            Function::Record(stem) => {
                let id = rng.range(1, 9999);
                p.insert("record_id".into(), json!(id));
                (
                    format!("Pull up {stem} record number {id}."),
                    format!("{stem} record {id}"),
                )
            }
            Function::Builtin(i) => match CATALOGUE[*i].name {
                "get_weather" => {
                    let (c, u) = (pick(rng, CITIES), pick(rng, &["celsius", "fahrenheit"]));
                    p.insert("city".into(), json!(c));
                    p.insert("unit".into(), json!(u));
                    (
                        format!("What's the weather in {c} right now, in {u}?"),
                        format!("the weather in {c} in {u}"),
                    )
                }
                "convert_currency" => {
                    let a = rng.range(1, 2000);
                    let f = pick(rng, CURRENCIES);
                    let mut t = pick(rng, CURRENCIES);
                    while t == f {
                        t = pick(rng, CURRENCIES);
                    }
                    p.insert("amount".into(), json!(a));
                    p.insert("from_currency".into(), json!(f));
                    p.insert("to_currency".into(), json!(t));
                    (
                        format!("How much is {a} {f} in {t}?"),
                        format!("{a} {f} converted to {t}"),
                    )
                }
                "search_flights" => {
                    let o = pick(rng, CITIES);
                    let mut d = pick(rng, CITIES);
                    while d == o {
                        d = pick(rng, CITIES);
                    }
                    let date = format!("2025-{:02}-{:02}", rng.range(1, 12), rng.range(1, 28));
                    p.insert("origin".into(), json!(o));
                    p.insert("destination".into(), json!(d));
                    p.insert("date".into(), json!(date));
                    (
                        format!("Find me flights from {o} to {d} on {date}."),
                        format!("flights from {o} to {d} on {date}"),
                    )
                }
                "set_reminder" => {
                    let m = pick(rng, TASKS);
                    let t = format!("{:02}:{:02}", rng.range(6, 22), rng.range(0, 3) * 15);
                    p.insert("message".into(), json!(m));
                    p.insert("time".into(), json!(t));
                    (
                        format!("Remind me to {m} at {t}."),
                        format!("a reminder to {m} at {t}"),
                    )
                }
                "translate_text" => {
                    let (x, l) = (pick(rng, PHRASES), pick(rng, LANGUAGES));
                    p.insert("text".into(), json!(x));
                    p.insert("target_language".into(), json!(l));
                    (
                        format!("How do I say \"{x}\" in {l}?"),
                        format!("\"{x}\" translated into {l}"),
                    )
                }
                "get_stock_price" => {
                    let (s, e) = (pick(rng, SYMBOLS), pick(rng, EXCHANGES));
                    p.insert("symbol".into(), json!(s));
                    p.insert("exchange".into(), json!(e));
                    (
                        format!("What is {s} trading at on the {e}?"),
                        format!("the price of {s} on the {e}"),
                    )
                }
                "book_table" => {
                    let r = pick(rng, RESTAURANTS);
                    let n = rng.range(1, 12);
                    let t = format!("{:02}:{:02}", rng.range(11, 22), rng.range(0, 1) * 30);
                    p.insert("restaurant".into(), json!(r));
                    p.insert("party_size".into(), json!(n));
                    p.insert("time".into(), json!(t));
                    (
                        format!("Book a table for {n} at {r} at {t}."),
                        format!("a table for {n} at {r} at {t}"),
                    )
                }
                "calculate_tip" => {
                    let b = rng.range(5, 400);
                    let t = pick(rng, &["10", "12", "15", "18", "20", "25"]);
                    let tn: i64 = t.parse().unwrap_or(15);
                    p.insert("bill_amount".into(), json!(b));
                    p.insert("tip_percent".into(), json!(tn));
                    (
                        format!("What's a {t}% tip on a bill of {b} dollars?"),
                        format!("a {t}% tip on {b} dollars"),
                    )
                }
                "get_news" => {
                    let (t, n) = (pick(rng, TOPICS), rng.range(1, 10));
                    p.insert("topic".into(), json!(t));
                    p.insert("limit".into(), json!(n));
                    (
                        format!("Show me the top {n} news stories about {t}."),
                        format!("{n} {t} stories"),
                    )
                }
                "play_music" => {
                    let (s, a) = SONGS
                        .get(rng.below(SONGS.len()))
                        .copied()
                        .unwrap_or(("Imagine", "John Lennon"));
                    p.insert("song".into(), json!(s));
                    p.insert("artist".into(), json!(a));
                    (format!("Play {s} by {a}."), format!("{s} by {a}"))
                }
                "send_email" => {
                    let (r, s) = (pick(rng, PEOPLE), pick(rng, SUBJECTS));
                    p.insert("recipient".into(), json!(r));
                    p.insert("subject".into(), json!(s));
                    (
                        format!("Send an email to {r} with the subject \"{s}\"."),
                        format!("an email to {r} about \"{s}\""),
                    )
                }
                _ => {
                    let o = pick(rng, CITIES);
                    let mut d = pick(rng, CITIES);
                    while d == o {
                        d = pick(rng, CITIES);
                    }
                    let m = pick(rng, MODES);
                    p.insert("origin".into(), json!(o));
                    p.insert("destination".into(), json!(d));
                    p.insert("mode".into(), json!(m));
                    (
                        format!("How do I get from {o} to {d} by {m}?"),
                        format!("{m} directions from {o} to {d}"),
                    )
                }
            },
        };
        (request, p, gloss)
    }
}

/// One problem: the request and its reference.
#[derive(Clone, Debug)]
struct Problem {
    request: String,
    /// Library indices of the functions the reference calls.
    used: Vec<usize>,
    /// One JSON line per call.
    calls: Vec<String>,
    think: String,
    response: Option<String>,
}

/// The `tool_call` task.
pub struct ToolCall {
    seed: u64,
    library: Vec<Function>,
    /// Catalogue functions not in the library (refusals ask for them).
    missing: Vec<usize>,
    max_calls: usize,
    no_call: f64,
    /// List functions as one-line signatures instead of JSON descriptions.
    signatures: bool,
    instruction: String,
    fallback: [Problem; 2],
}

fn index(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Heldout => 1,
    }
}

fn split_of(p: &Problem) -> Split {
    if fingerprint(&p.request).is_multiple_of(10) {
        Split::Heldout
    } else {
        Split::Train
    }
}

impl ToolCall {
    /// Builds the task from its declaration.
    pub fn build(decl: &Decl, seed: u64) -> Result<ToolCall, String> {
        let int = |n: &str, d: i64| match arg(decl, n) {
            Some(Const::Int(i)) => *i,
            Some(c) => c.as_f64().map_or(d, |x| x as i64),
            None => d,
        };
        let functions = int("functions", 6);
        let max_calls = int("max_calls", 2);
        let no_call = arg(decl, "no_call").and_then(Const::as_f64).unwrap_or(0.2);
        if !(1..=MAX_FUNCTIONS).contains(&functions) {
            return Err(format!(
                "tool_call: `functions` must be in 1..={MAX_FUNCTIONS}, not {functions}"
            ));
        }
        if !(1..=MAX_CALLS).contains(&max_calls) {
            return Err(format!(
                "tool_call: `max_calls` must be in 1..={MAX_CALLS}, not {max_calls}"
            ));
        }
        if !(0.0..=1.0).contains(&no_call) {
            return Err(format!(
                "tool_call: `no_call` must be in [0, 1], not {no_call}"
            ));
        }
        let signatures = match arg(decl, "listing") {
            None => false,
            Some(Const::Str(l) | Const::Name(l)) if l == "json" => false,
            Some(Const::Str(l) | Const::Name(l)) if l == "signature" => true,
            Some(other) => {
                return Err(format!(
                    "tool_call: `listing` must be \"json\" or \"signature\", not {other:?}"
                ));
            }
        };
        let instruction = match arg(decl, "instruction") {
            Some(Const::Str(t)) => t.clone(),
            _ => INSTRUCTION.to_string(),
        };
        let mut rng = Rng::for_problem(seed, "tool_call/library", 0, 0);
        let mut order: Vec<usize> = (0..CATALOGUE.len()).collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i + 1);
            order.swap(i, j);
        }
        let functions = functions as usize;
        let mut library: Vec<Function> = order
            .iter()
            .take(functions)
            .map(|i| Function::Builtin(*i))
            .collect();
        let syllables = ["ka", "lo", "mi", "ru", "te", "vo", "za", "ne", "pi", "su"];
        for j in library.len()..functions {
            let x = j - CATALOGUE.len();
            let stem = format!(
                "{}{}{}",
                syllables[x % 10],
                syllables[(x / 10) % 10],
                syllables[(x / 100) % 10]
            ) + &"x".repeat(x / 1000);
            library.push(Function::Record(stem));
        }
        let missing = order.iter().skip(functions).copied().collect();
        let mut task = ToolCall {
            seed,
            library,
            missing,
            max_calls: max_calls as usize,
            no_call,
            signatures,
            instruction,
            fallback: [Problem::empty(), Problem::empty()],
        };
        for s in [Split::Train, Split::Heldout] {
            let mut rng = Rng::for_problem(seed, "tool_call/fallback", index(s) as u64, 0);
            match (0..SEARCH)
                .map(|_| task.draw(&mut rng))
                .find(|p| split_of(p) == s)
            {
                Some(p) => task.fallback[index(s)] = p,
                None => {
                    return Err(format!(
                        "tool_call(functions = {functions}, max_calls = {max_calls}, no_call = {no_call}) has no problem in the {} split; use more functions or calls",
                        if s == Split::Train {
                            "train"
                        } else {
                            "held-out"
                        }
                    ));
                }
            }
        }
        Ok(task)
    }

    fn draw(&self, rng: &mut Rng) -> Problem {
        if rng.chance(self.no_call) {
            return self.draw_without_call(rng);
        }
        let k = rng.range(1, self.max_calls as i64) as usize;
        let mut requests = Vec::new();
        let mut calls = Vec::new();
        let mut glosses = Vec::new();
        let mut wants = Vec::new();
        let mut used = Vec::new();
        for _ in 0..k {
            let f = rng.below(self.library.len());
            let (request, params, gloss) = self.library[f].draw(rng);
            let call = json!({"name": self.library[f].name(), "parameters": Json::Object(params)});
            let line = call.to_string();
            if calls.contains(&line) {
                continue;
            }
            requests.push(request);
            glosses.push(format!("`{}` for {gloss}", self.library[f].name()));
            wants.push(gloss);
            calls.push(line);
            used.push(f);
        }
        let request = requests.join(" Also: ");
        let think = if calls.len() == 1 {
            format!(
                "The user wants {}; I will call {}.",
                wants.join(""),
                glosses.join("")
            )
        } else {
            format!(
                "The user makes {} requests, each served by a listed function. I will call {}.",
                calls.len(),
                glosses.join(", then ")
            )
        };
        // Whether the reference also replies is a function of the request, so
        // one request always has one reference.
        let response = ((fingerprint(&request) / 10) % 10 < 3).then(|| {
            "Sure, I am taking care of that now and will report back with the results.".to_string()
        });
        Problem {
            request,
            used,
            calls,
            think,
            response,
        }
    }

    fn draw_without_call(&self, rng: &mut Rng) -> Problem {
        let refuse = rng.chance(0.5);
        let (request, think, response) = if refuse {
            let does = match self.missing.get(rng.below(self.missing.len())) {
                Some(i) if rng.chance(0.5) => CATALOGUE[*i].does,
                _ => UNSUPPORTED
                    .get(rng.below(UNSUPPORTED.len()))
                    .copied()
                    .unwrap_or("fix my printer"),
            };
            let request = format!("Can you {does} for me?");
            (
                request,
                format!(
                    "The user asks me to {does}, but none of the available functions can do that, so no call fits."
                ),
                format!("Sorry, I can't {does}: none of my available functions supports it."),
            )
        } else {
            let (a, b) = (rng.range(2, 999), rng.range(2, 999));
            let s = a + b;
            (
                format!("What is {a} plus {b}?"),
                format!("This is simple arithmetic that needs no function: {a} + {b} = {s}."),
                format!("{a} plus {b} is {s}."),
            )
        };
        Problem {
            request,
            used: Vec::new(),
            calls: Vec::new(),
            think,
            response: Some(response),
        }
    }

    fn sample_of(&self, p: &Problem) -> Sample {
        // The listed functions: the whole library when small, else the
        // needed ones plus others drawn from the request's fingerprint.
        let mut listed: Vec<usize> = if self.library.len() <= MAX_LISTED {
            (0..self.library.len()).collect()
        } else {
            let mut l = p.used.clone();
            l.sort_unstable();
            l.dedup();
            let mut rng =
                Rng::for_problem(self.seed, "tool_call/listing", 0, fingerprint(&p.request));
            let mut guard = 0;
            while l.len() < MAX_LISTED && guard < 10_000 {
                let f = rng.below(self.library.len());
                if !l.contains(&f) {
                    l.push(f);
                }
                guard += 1;
            }
            l
        };
        listed.sort_unstable();
        let listing: Vec<String> = listed
            .iter()
            .map(|f| {
                let f = &self.library[*f];
                if self.signatures {
                    f.signature()
                } else {
                    f.listing().to_string()
                }
            })
            .collect();
        let mut prompt = if self.signatures {
            "You can call the following functions:\n".to_string()
        } else {
            "You can call the following functions, one JSON description per line:\n".to_string()
        };
        prompt.push_str(&listing.join("\n"));
        prompt.push('\n');
        if !self.instruction.is_empty() {
            prompt.push_str(&self.instruction);
            prompt.push('\n');
        }
        prompt.push_str("User: ");
        prompt.push_str(&p.request);
        let tool_calls = if p.calls.is_empty() {
            String::new()
        } else {
            format!("<tool_call>\n{}\n</tool_call>", p.calls.join("\n"))
        };
        let mut expected = tool_calls.clone();
        if let Some(r) = &p.response {
            if !expected.is_empty() {
                expected.push('\n');
            }
            expected.push_str(&format!("<response>{r}</response>"));
        }
        let answer = match &p.response {
            Some(r) if p.calls.is_empty() => r.clone(),
            _ => p.calls.join("\n"),
        };
        let demonstration = format!("<think>{}</think>\n{expected}", p.think);
        let mut fields = Map::new();
        fields.insert("prompt".into(), Json::String(prompt));
        fields.insert("answer".into(), Json::String(answer));
        fields.insert("tool_calls".into(), Json::String(tool_calls));
        fields.insert("expected".into(), Json::String(expected));
        Sample {
            fields,
            demonstration,
            auxiliary: Vec::new(),
        }
    }
}

impl Problem {
    fn empty() -> Problem {
        Problem {
            request: String::new(),
            used: Vec::new(),
            calls: Vec::new(),
            think: String::new(),
            response: None,
        }
    }
}

impl Task for ToolCall {
    fn name(&self) -> &'static str {
        NAME
    }

    fn sample(&self, split: Split, idx: u64) -> Sample {
        let mut rng = Rng::for_problem(self.seed, NAME, index(split) as u64, idx);
        let p = (0..TRIES)
            .map(|_| self.draw(&mut rng))
            .find(|p| split_of(p) == split)
            .unwrap_or_else(|| self.fallback[index(split)].clone());
        self.sample_of(&p)
    }
}

#[cfg(test)]
mod tests {
    use rlr_lang::{Kind, Scope};
    use rlr_reward::node::Arg;
    use rlr_reward::testing::{Fixture, call};
    use rlr_reward::{Data, SetId, Value};

    use super::*;
    use crate::testkit::{common, decl, int};

    fn task(seed: u64, args: &[(&str, Const)]) -> ToolCall {
        ToolCall::build(&decl("tool_call", args), seed).unwrap_or_else(|e| panic!("{e}"))
    }

    fn eval(s: &Sample, name: &str, text: &str, expected: &str, out: Kind) -> Data {
        let d = &s.demonstration;
        let mut fx = Fixture::new(&[(&[d.as_str()], Json::Object(s.fields.clone()))]);
        let t = Arg::from(Value::new(
            Scope::Response,
            SetId::Main,
            Data::Text(vec![text.to_string()]),
        ));
        let e = Arg::from(Value::new(
            Scope::Group,
            SetId::Main,
            Data::Text(vec![expected.to_string()]),
        ));
        let node = rlr_reward::nodes::lookup(name).unwrap_or_else(|| panic!("no `{name}`"));
        node.eval(
            &call(
                name,
                vec![("text", t), ("expected", e)],
                (Scope::Response, out),
                &[],
            ),
            &mut fx.cx("t"),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .data
    }

    /// ToolRL's reward on the demonstration: format 1, and with a reference call, a match of 1.
    fn full_marks(s: &Sample) {
        let d = &s.demonstration;
        let field = |k: &str| s.fields[k].as_str().unwrap_or("").to_string();
        let form = eval(s, "toolrl_format", d, &field("expected"), Kind::Bool);
        assert_eq!(form, Data::Bool(vec![true]), "toolrl_format: {d}");
        let calls = field("tool_calls");
        if !calls.is_empty() {
            let m = eval(s, "tool_call_match", d, &calls, Kind::Real);
            assert_eq!(m, Data::Real(vec![1.0]), "tool_call_match: {d}");
            let n = eval(s, "tool_call_count", &calls, "", Kind::Real);
            assert!(matches!(n, Data::Real(ref x) if x[0] >= 1.0));
        }
    }

    #[test]
    fn common_checks() {
        common(|seed| task(seed, &[]), 2000);
        common(
            |seed| task(seed, &[("functions", int(30)), ("max_calls", int(3))]),
            500,
        );
    }

    #[test]
    fn demonstrations_score_full_marks() {
        let mut kinds = [0usize; 3];
        for args in [
            vec![],
            vec![("functions", int(1)), ("max_calls", int(1))],
            vec![
                ("functions", int(40)),
                ("max_calls", int(4)),
                ("no_call", Const::Real(0.5)),
            ],
            vec![("no_call", Const::Real(1.0))],
            vec![("no_call", Const::Real(0.0))],
        ] {
            let t = task(2, &args);
            for split in [Split::Train, Split::Heldout] {
                for i in 0..200 {
                    let s = t.sample(split, i);
                    full_marks(&s);
                    let e = s.fields["expected"].as_str().unwrap_or("");
                    kinds[usize::from(e.contains("<tool_call>"))
                        + usize::from(e.contains("<response>") && e.contains("<tool_call>"))] += 1;
                    assert!(s.prompt().ends_with(&format!("User: {}", p_request(&s))));
                }
            }
        }
        // Responses only, calls only, and both all occur.
        assert!(kinds.iter().all(|k| *k > 0), "{kinds:?}");
    }

    fn p_request(s: &Sample) -> String {
        s.prompt().rsplit("User: ").next().unwrap_or("").to_string()
    }

    #[test]
    fn prompts_list_the_functions_called() {
        let t = task(4, &[("functions", int(50)), ("max_calls", int(3))]);
        for i in 0..100 {
            let s = t.sample(Split::Train, i);
            let listed = s.prompt().lines().filter(|l| l.starts_with("{\"")).count();
            assert_eq!(listed, MAX_LISTED);
            for line in s.fields["tool_calls"]
                .as_str()
                .unwrap_or("")
                .lines()
                .filter(|l| l.starts_with('{'))
            {
                let v: Json = serde_json::from_str(line).unwrap_or(Json::Null);
                let name = v["name"].as_str().unwrap_or("?");
                assert!(
                    s.prompt().contains(&format!("\"name\":\"{name}\"")),
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn signature_listing_names_every_called_function_in_fewer_characters() {
        let sig = [
            ("listing", Const::Str("signature".into())),
            ("instruction", Const::Str(String::new())),
        ];
        let short = task(4, &sig);
        let long = task(4, &[]);
        let (mut a, mut b) = (0, 0);
        for i in 0..200 {
            let s = short.sample(Split::Train, i);
            let j = long.sample(Split::Train, i);
            // Same problem, same reference; only the prompt's listing differs.
            assert_eq!(s.demonstration, j.demonstration);
            assert_eq!(p_request(&s), p_request(&j));
            assert!(!s.prompt().contains("<think>"), "{}", s.prompt());
            full_marks(&s);
            for line in s.fields["tool_calls"].as_str().unwrap_or("").lines() {
                let v: Json = serde_json::from_str(line).unwrap_or(Json::Null);
                if let Some(name) = v["name"].as_str() {
                    assert!(s.prompt().contains(&format!("\n{name}(")), "{name}");
                }
            }
            a += s.prompt().len();
            b += j.prompt().len();
        }
        assert!(2 * a < b, "signature {a} vs json {b} characters");
    }

    #[test]
    fn the_default_instruction_is_the_registry_default() {
        crate::testkit::assert_registry_default(NAME, "instruction", INSTRUCTION);
        assert!(
            task(1, &[])
                .sample(Split::Train, 0)
                .prompt()
                .contains(INSTRUCTION)
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        for args in [
            vec![("listing", Const::Str("yaml".into()))],
            vec![("functions", int(0))],
            vec![("functions", int(1_000_000))],
            vec![("max_calls", int(0))],
            vec![("max_calls", int(1000))],
            vec![("no_call", Const::Real(1.5))],
        ] {
            assert!(
                ToolCall::build(&decl("tool_call", &args), 1).is_err(),
                "{args:?}"
            );
        }
    }
}
