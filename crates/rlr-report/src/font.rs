//! The one font every chart uses, embedded: DejaVu Sans (licence in
//! `assets/LICENSE-DejaVuSans.txt`), registered with plotters' `ab_glyph`
//! backend so neither fontconfig nor FreeType is needed.

use std::sync::OnceLock;

use plotters::style::FontStyle;

/// The font file.
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name charts ask for.
pub const FAMILY: &str = "sans-serif";

/// Registers the font once; later calls return the first outcome.
pub fn ensure() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            plotters::style::register_font(FAMILY, style, DEJAVU_SANS)
                .map_err(|_| "the embedded font does not load".to_string())?;
        }
        Ok(())
    })
    .clone()
}
