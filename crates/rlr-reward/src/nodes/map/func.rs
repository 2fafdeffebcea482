//! Scalar functions shared by maps and relations: the logistic family,
//! PAR's fitted polynomial and the normal quantile.

use std::sync::OnceLock;

/// σ(z) = 1 / (1 + e^{−z}), without overflow for large |z|.
pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// log σ(z) = −log(1 + e^{−z}), without overflow or cancellation.
pub(crate) fn log_sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

/// The number of evenly spaced points on [−5, 5] the polynomial is fitted on.
const FIT_POINTS: usize = 1001;

/// Coefficients c_0..c_5 of the degree-5 least-squares fit of σ on [−5, 5],
/// in the variable u = z / 5 (which keeps the normal equations well conditioned).
fn poly_coefficients() -> &'static [f64; 6] {
    static COEFFS: OnceLock<[f64; 6]> = OnceLock::new();
    COEFFS.get_or_init(|| {
        // Normal equations A c = b with A_jk = Σ u^{j+k}, b_j = Σ u^j σ(5u).
        let mut a = [[0.0f64; 7]; 6];
        for i in 0..FIT_POINTS {
            let u = -1.0 + 2.0 * i as f64 / (FIT_POINTS - 1) as f64;
            let y = sigmoid(5.0 * u);
            let mut pow = [1.0f64; 11];
            for p in 1..11 {
                pow[p] = pow[p - 1] * u;
            }
            for (j, row) in a.iter_mut().enumerate() {
                for k in 0..6 {
                    row[k] += pow[j + k];
                }
                row[6] += pow[j] * y;
            }
        }
        solve6(a)
    })
}

/// Gaussian elimination with partial pivoting on an augmented 6 × 7 system.
fn solve6(mut a: [[f64; 7]; 6]) -> [f64; 6] {
    for col in 0..6 {
        let pivot = (col..6)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        let p = a[col][col];
        if p == 0.0 {
            continue;
        }
        let pivot_row = a[col];
        for row in a.iter_mut().skip(col + 1) {
            let f = row[col] / p;
            for (x, y) in row.iter_mut().zip(pivot_row).skip(col) {
                *x -= f * y;
            }
        }
    }
    let mut x = [0.0f64; 6];
    for row in (0..6).rev() {
        let s: f64 = (row + 1..6).map(|k| a[row][k] * x[k]).sum();
        x[row] = if a[row][row] == 0.0 {
            0.0
        } else {
            (a[row][6] - s) / a[row][row]
        };
    }
    x
}

/// PAR's fitted polynomial: the least-squares degree-5 fit of σ on [−5, 5]
/// (1001 evenly spaced points); 0 at or below −5 and 1 at or above 5, as in
/// PAR's `calculate_fitted_poly`.
pub(crate) fn sigmoid_poly(z: f64) -> f64 {
    if z <= -5.0 {
        return 0.0;
    }
    if z >= 5.0 {
        return 1.0;
    }
    let u = z / 5.0;
    poly_coefficients()
        .iter()
        .rev()
        .fold(0.0, |acc, c| acc * u + c)
}

/// Horner evaluation of c_0 + c_1 x + … + c_7 x^7.
fn horner(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

/// Φ^{-1}(q), the standard normal quantile (Wichura's algorithm AS 241,
/// PPND16, accurate to about 1e-16); −∞ at 0, +∞ at 1, NaN outside [0, 1].
// The coefficients are kept with the digits AS 241 publishes.
#[allow(clippy::excessive_precision)]
pub(crate) fn normal_quantile(q: f64) -> f64 {
    const A: [f64; 8] = [
        3.387_132_872_796_366_608,
        1.331_416_678_917_843_774_5e2,
        1.971_590_950_306_551_442_7e3,
        1.373_169_376_550_946_112_5e4,
        4.592_195_393_154_987_145_7e4,
        6.726_577_092_700_870_085_3e4,
        3.343_057_558_358_812_810_5e4,
        2.509_080_928_730_122_672_7e3,
    ];
    const B: [f64; 8] = [
        1.0,
        4.231_333_070_160_091_125_2e1,
        6.871_870_074_920_579_083e2,
        5.394_196_021_424_751_107_7e3,
        2.121_379_430_158_659_586_7e4,
        3.930_789_580_009_271_061e4,
        2.872_908_573_572_194_267_4e4,
        5.226_495_278_852_854_561e3,
    ];
    const C: [f64; 8] = [
        1.423_437_110_749_683_577_34,
        4.630_337_846_156_545_295_9,
        5.769_497_221_460_691_405_5,
        3.647_848_324_763_204_605_04,
        1.270_458_252_452_368_382_58,
        2.417_807_251_774_506_117_7e-1,
        2.272_384_498_926_918_458_33e-2,
        7.745_450_142_783_414_076_4e-4,
    ];
    const D: [f64; 8] = [
        1.0,
        2.053_191_626_637_758_821_87,
        1.676_384_830_183_803_849_4,
        6.897_673_349_851_000_045_5e-1,
        1.481_039_764_274_800_745_9e-1,
        1.519_866_656_361_645_719_66e-2,
        5.475_938_084_995_344_946e-4,
        1.050_750_071_644_416_843_24e-9,
    ];
    const E: [f64; 8] = [
        6.657_904_643_501_103_777_2,
        5.463_784_911_164_114_369_9,
        1.784_826_539_917_291_335_8,
        2.965_605_718_285_048_912_3e-1,
        2.653_218_952_657_612_309_3e-2,
        1.242_660_947_388_078_438_6e-3,
        2.711_555_568_743_487_578_15e-5,
        2.010_334_399_292_288_132_65e-7,
    ];
    const F: [f64; 8] = [
        1.0,
        5.998_322_065_558_879_376_9e-1,
        1.369_298_809_227_358_053_1e-1,
        1.487_536_129_085_061_485_25e-2,
        7.868_691_311_456_132_591e-4,
        1.846_318_317_510_054_681_8e-5,
        1.421_511_758_316_445_888_7e-7,
        2.044_263_103_389_939_785_64e-15,
    ];
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        return f64::NAN;
    }
    if q == 0.0 {
        return f64::NEG_INFINITY;
    }
    if q == 1.0 {
        return f64::INFINITY;
    }
    let d = q - 0.5;
    if d.abs() <= 0.425 {
        let r = 0.180_625 - d * d;
        return d * horner(&A, r) / horner(&B, r);
    }
    let r = (-(if d < 0.0 { q } else { 1.0 - q }).ln()).sqrt();
    let z = if r <= 5.0 {
        horner(&C, r - 1.6) / horner(&D, r - 1.6)
    } else {
        horner(&E, r - 5.0) / horner(&F, r - 5.0)
    };
    if d < 0.0 { -z } else { z }
}
