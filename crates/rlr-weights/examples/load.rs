//! Times loading a Llama GGUF into f32 Hugging Face weights and building
//! its tokenizer.json, and prints a few values for cross-checking.
//!
//! ```sh
//! cargo run --release -p rlr-weights --example load -- model.gguf [--tokenizer-out FILE] [TENSOR ...]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use rlr_weights::gguf::Gguf;
use rlr_weights::llama::weights_from_gguf;
use rlr_weights::vocab::Vocab;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: load MODEL.gguf [--tokenizer-out FILE] [TENSOR ...]");
        std::process::exit(2);
    }
    let path = PathBuf::from(args.remove(0));
    let tokenizer_out = match args.iter().position(|a| a == "--tokenizer-out") {
        Some(i) if i + 1 < args.len() => {
            let out = args.remove(i + 1);
            args.remove(i);
            Some(PathBuf::from(out))
        }
        _ => None,
    };
    let run = || -> rlr_weights::Result<()> {
        let t0 = Instant::now();
        let g = Gguf::read_file(&path)?;
        let t1 = Instant::now();
        let w = weights_from_gguf(&g)?;
        let t2 = Instant::now();
        let tok = Vocab::from_gguf(&g)?.tokenizer_json_string()?;
        let t3 = Instant::now();
        println!(
            "read+parse {:.3} s, dequantise+layout {:.3} s, tokenizer.json {:.3} s ({} bytes); {} tensors, {} parameters",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            tok.len(),
            w.tensors.len(),
            w.parameter_count()
        );
        println!("{:?}", w.config);
        if let Some(out) = &tokenizer_out
            && let Err(e) = std::fs::write(out, &tok)
        {
            eprintln!("cannot write {}: {e}", out.display());
        }
        for name in &args {
            match w.get(name) {
                Some(t) => {
                    // The weighted sum changes when rows move, the plain one does not.
                    let sum: f64 = t.data.iter().map(|&x| f64::from(x)).sum();
                    let n = t.data.len() as f64;
                    let wsum: f64 = t
                        .data
                        .iter()
                        .enumerate()
                        .map(|(i, &x)| i as f64 * f64::from(x) / n)
                        .sum();
                    let first = &t.data[..t.data.len().min(4)];
                    println!(
                        "{name} {:?} sum {sum:.6} wsum {wsum:.6} first {first:?}",
                        t.shape
                    );
                }
                None => println!("{name}: no such tensor"),
            }
        }
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
