//! Paths of model files as a recipe writes them: `$NAME` and `${NAME}` are
//! replaced by environment variables when the run starts (the language
//! reads no environment, and `rlr check` needs no file), then a relative
//! path is taken relative to the recipe's folder by the caller's `locate`.

/// `path` with every `$NAME` / `${NAME}` replaced by that environment
/// variable. A `$` not followed by a name or `{` stays as written. An unset
/// or empty variable is an error naming it.
pub fn expand_env(path: &str) -> Result<String, String> {
    expand_with(path, &|name| std::env::var(name).ok())
}

/// [`expand_env`] over any variable lookup (tests use a map).
pub(crate) fn expand_with(
    path: &str,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let is_name = |c: char| c == '_' || c.is_ascii_alphanumeric();
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, tail) = if let Some(braced) = after.strip_prefix('{') {
            let end = braced
                .find('}')
                .ok_or_else(|| format!("`{path}`: `${{` without a closing `}}`"))?;
            (&braced[..end], &braced[end + 1..])
        } else {
            let end = after.find(|c: char| !is_name(c)).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        if name.is_empty()
            || name.starts_with(|c: char| c.is_ascii_digit())
            || !name.chars().all(is_name)
        {
            if after.starts_with('{') {
                return Err(format!("`{path}`: `${{{name}}}` is not a variable name"));
            }
            out.push('$');
            rest = after;
            continue;
        }
        match var(name) {
            Some(v) if !v.is_empty() => out.push_str(&v),
            Some(_) => {
                return Err(format!(
                    "`{path}`: the environment variable {name} is empty"
                ));
            }
            None => {
                return Err(format!(
                    "`{path}`: the environment variable {name} is not set"
                ));
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "MODEL" => Some("/models/smol.gguf".into()),
            "DIR" => Some("/m".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn variables_are_replaced_in_both_spellings() {
        let e = |p: &str| expand_with(p, &vars);
        assert_eq!(e("$MODEL"), Ok("/models/smol.gguf".into()));
        assert_eq!(e("${DIR}/x.gguf"), Ok("/m/x.gguf".into()));
        assert_eq!(e("$DIR/a$DIR"), Ok("/m/a/m".into()));
        assert_eq!(e("models/plain.gguf"), Ok("models/plain.gguf".into()));
        // A `$` that starts no name is kept.
        assert_eq!(e("a$/b$1 $"), Ok("a$/b$1 $".into()));
    }

    #[test]
    fn unset_empty_and_malformed_variables_are_errors_naming_them() {
        let e = |p: &str| expand_with(p, &vars).err().unwrap_or_default();
        assert!(e("$NOPE/x").contains("NOPE is not set"), "{}", e("$NOPE/x"));
        assert!(e("${EMPTY}").contains("EMPTY is empty"));
        assert!(e("${DIR").contains("without a closing"));
        assert!(e("${a b}").contains("not a variable name"));
    }
}
