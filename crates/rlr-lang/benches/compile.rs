//! Parse + check + compile time per recipe: `cargo bench -p rlr-lang`.
//!
//! Each recipe in `recipes/` is compiled repeatedly (imports served from
//! memory, so file reading is not timed); the median of 15 batches is reported.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

struct Memory(HashMap<String, String>);

impl rlr_lang::Loader for Memory {
    fn load(&mut self, from: &str, path: &str) -> Result<(String, String), String> {
        let base = Path::new(from).parent().unwrap_or(Path::new(""));
        let name = base.join(path).to_string_lossy().into_owned();
        self.0
            .get(&name)
            .map(|t| (name.clone(), t.clone()))
            .ok_or(name)
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = HashMap::new();
    let mut stack = vec![root.join("recipes")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rlr") {
                let name = p
                    .strip_prefix(&root)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .into_owned();
                files.insert(name, std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let mut names: Vec<String> = files
        .keys()
        .filter(|n| !n.contains("/lib/"))
        .cloned()
        .collect();
    names.sort();
    println!("{:<32} {:>12} {:>10}", "recipe", "median µs", "bytes");
    for name in names {
        let text = files[&name].clone();
        let mut loader = Memory(files.clone());
        let c = rlr_lang::compile(&name, &text, &mut loader);
        assert!(!c.has_errors(), "{name} does not compile");
        let iterations = 200;
        let mut batches: Vec<f64> = (0..15)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..iterations {
                    let c = rlr_lang::compile(&name, &text, &mut loader);
                    std::hint::black_box(&c);
                }
                start.elapsed().as_secs_f64() * 1e6 / f64::from(iterations)
            })
            .collect();
        batches.sort_by(f64::total_cmp);
        println!(
            "{:<32} {:>12.1} {:>10}",
            name,
            batches[batches.len() / 2],
            text.len()
        );
    }
}
