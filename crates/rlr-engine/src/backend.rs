//! Which Burn backend runs the model, chosen by cargo feature: `flex` (the
//! default, pure-Rust CPU, about twice ndarray's sampling speed here), then
//! `ndarray`, then `wgpu`.

use std::sync::Mutex;

use burn::prelude::*;

/// Burn's seed may be global rather than per device (its docs say so), so
/// seeding and drawing the initial weights hold this lock: two models built
/// at once (parallel tests) would otherwise interleave one generator.
static SEEDED: Mutex<()> = Mutex::new(());

/// The compiled backend's device, without autodiff (sampling, evaluation).
pub fn plain() -> Device {
    #[cfg(feature = "flex")]
    {
        Device::flex()
    }
    #[cfg(all(not(feature = "flex"), feature = "ndarray"))]
    {
        #[allow(deprecated)] // burn-ndarray is deprecated upstream; kept for comparison.
        Device::ndarray()
    }
    #[cfg(all(not(feature = "flex"), not(feature = "ndarray"), feature = "wgpu"))]
    {
        Device::wgpu(DeviceKind::default())
    }
    #[cfg(not(any(feature = "flex", feature = "ndarray", feature = "wgpu")))]
    {
        compile_error!("rlr-engine needs a backend feature: flex, ndarray or wgpu");
    }
}

/// The training device (autodiff on the compiled backend). Seeding happens
/// in [`seeded`], so that a seed is never reset under another model's init.
pub fn device() -> Device {
    plain().autodiff()
}

/// Runs `f` (typically a model's init) right after seeding the device, with
/// no other seeded draw in between.
pub fn seeded<T>(device: &Device, seed: u64, f: impl FnOnce(&Device) -> T) -> T {
    let _guard = SEEDED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    f(device)
}

/// The compiled backend's name, for the manifest.
pub const NAME: &str = if cfg!(feature = "flex") {
    "flex"
} else if cfg!(feature = "ndarray") {
    "ndarray"
} else {
    "wgpu"
};

/// The Burn version this crate pins (checked against Cargo.toml by a test).
pub const BURN_VERSION: &str = "0.22.1";

#[cfg(test)]
mod tests {
    #[test]
    fn the_burn_version_is_the_one_cargo_toml_pins() {
        let manifest = include_str!("../Cargo.toml");
        let pin = format!("burn = {{ version = \"={}\"", super::BURN_VERSION);
        assert!(manifest.contains(&pin), "Cargo.toml does not pin {pin}");
    }
}
