//! Seeded randomness and batched sampling from logits. No global state: every variation owns a
//! [`Pcg32`] stream derived from the job's seed and its index, so variation `i` of a seed is the
//! same whatever the number of variations.

/// PCG-XSH-RR 32 (O'Neill 2014): small, fast, reproducible on every platform.
#[derive(Clone, Debug)]
pub struct Pcg32 {
    state: u64,
    inc: u64,
    spare_normal: Option<f64>,
}

const MULT: u64 = 6_364_136_223_846_793_005;

impl Pcg32 {
    pub fn new(seed: u64, stream: u64) -> Pcg32 {
        let mut rng = Pcg32 { state: 0, inc: (stream << 1) | 1, spare_normal: None };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed);
        rng.next_u32();
        rng
    }

    /// One stream per variation (`purpose` separates independent uses within a job).
    pub fn for_variation(seed: u64, purpose: u64, index: usize) -> Pcg32 {
        Pcg32::new(seed, purpose.wrapping_mul(0x9E37_79B9).wrapping_add(index as u64))
    }

    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(MULT).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        let hi = (self.next_u32() as u64) << 21;
        let lo = (self.next_u32() >> 11) as u64;
        (hi | lo) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn next_normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = 1.0 - self.next_f64(); // (0, 1]
        let u2 = self.next_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * std::f64::consts::PI * u2).sin_cos();
        self.spare_normal = Some(r * s);
        r * c
    }
}

/// Picks one token per row of `logits` (`rows × vocab`, row-major) into `out`.
/// Temperature 0 takes the arg-max; otherwise samples softmax(logits / T). `allowed`, when
/// given, masks tokens out (at least one token must be allowed). One RNG per row.
pub fn sample_rows(
    logits: &[f32],
    vocab: usize,
    temperature: f32,
    allowed: Option<&[bool]>,
    rngs: &mut [Pcg32],
    out: &mut [i64],
) {
    debug_assert_eq!(logits.len(), vocab * out.len());
    let mut scratch = Vec::new();
    for (row, (rng, slot)) in rngs.iter_mut().zip(out.iter_mut()).enumerate() {
        let l = &logits[row * vocab..(row + 1) * vocab];
        *slot = sample_one(l, temperature, allowed, rng, &mut scratch) as i64;
    }
}

fn sample_one(
    logits: &[f32],
    temperature: f32,
    allowed: Option<&[bool]>,
    rng: &mut Pcg32,
    buf: &mut Vec<f32>,
) -> usize {
    // Masked tokens become -inf; NaN logits never win a comparison and get weight 0 below.
    buf.clear();
    match allowed {
        None => buf.extend_from_slice(logits),
        Some(a) => buf.extend(logits.iter().zip(a).map(|(&v, &keep)| if keep { v } else { f32::NEG_INFINITY })),
    }
    let max = lane_max(buf);
    if !max.is_finite() {
        // Nothing usable (all masked, NaN or -inf): the first allowed token.
        return (0..logits.len()).find(|&i| allowed.is_none_or(|a| a[i])).unwrap_or(0);
    }
    if temperature <= 0.0 {
        return buf.iter().position(|&v| v == max).unwrap_or(0);
    }
    // Unnormalised probabilities exp((l - max) / T) = 2^((l - max) · log2(e) / T). Branch-free
    // and in 8 lanes so the 512-way drum softmax vectorises.
    let scale = std::f32::consts::LOG2_E / temperature;
    for w in buf.iter_mut() {
        let y = (*w - max) * scale;
        // -inf (masked), NaN and anything below 2^-126 weigh exactly 0.
        let keep = if y >= -126.0 { 1.0 } else { 0.0 };
        *w = keep * exp2_nonpositive(if y >= -126.0 { y } else { 0.0 });
    }
    let total = lane_sum(buf);
    let mut target = rng.next_f64() as f32 * total;
    // Blocked inverse-CDF scan: skip whole chunks by their sums.
    let mut base = 0;
    for chunk in buf.chunks(LANES) {
        let s = lane_sum(chunk);
        if target < s {
            for (k, &p) in chunk.iter().enumerate() {
                if target < p {
                    return base + k;
                }
                target -= p;
            }
        } else {
            target -= s;
        }
        base += chunk.len();
    }
    // Rounding left us past the end: the last token with weight.
    buf.iter().rposition(|&p| p > 0.0).unwrap_or(0)
}

const LANES: usize = 8;

/// Maximum ignoring NaN, in independent lanes (vectorisable).
fn lane_max(xs: &[f32]) -> f32 {
    let mut m = [f32::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            m[k] = if c[k] > m[k] { c[k] } else { m[k] };
        }
    }
    let mut r = f32::NEG_INFINITY;
    for &v in m.iter().chain(rest) {
        if v > r {
            r = v;
        }
    }
    r
}

/// Sum in independent lanes (vectorisable; the order differs from a serial sum only by
/// rounding).
fn lane_sum(xs: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..LANES {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// `2^x` for `x <= 0` (relative error < 1e-6; below 2^-126 it returns about 1e-38), fast enough
/// for a 512-way softmax every step: exponent bits plus a degree-6 polynomial for the fraction,
/// no branches and no libm call.
#[inline]
pub fn exp2_nonpositive(x: f32) -> f32 {
    let x = x.clamp(-126.0, 0.0);
    // Round to nearest with the 1.5·2^23 trick: the integer lands in the low mantissa bits, so
    // no float→int conversion is needed (keeps the loop vectorisable). f in [-0.5, 0.5].
    const MAGIC: f32 = 12_582_912.0;
    let t = x + MAGIC;
    let n = t.to_bits().wrapping_sub(MAGIC.to_bits()) as i32;
    let f = x - (t - MAGIC);
    // Taylor polynomial of e^(f ln 2); on |f| <= 1/2 the error is below 2e-7.
    const C: [f32; 7] =
        [1.0, std::f32::consts::LN_2, 0.240_226_5, 0.055_504_11, 0.009_618_129, 0.001_333_355_8, 0.000_154_035_3];
    let p = C[0] + f * (C[1] + f * (C[2] + f * (C[3] + f * (C[4] + f * (C[5] + f * C[6])))));
    let bits = ((n + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// Bernoulli(sigmoid(logit / T)); T = 0 thresholds at 0 (probability 0.5).
pub fn sample_bernoulli(logit: f32, temperature: f32, rng: &mut Pcg32) -> bool {
    if !logit.is_finite() {
        return logit > 0.0;
    }
    if temperature <= 0.0 {
        return logit > 0.0;
    }
    let p = 1.0 / (1.0 + (-(logit as f64) / temperature as f64).exp());
    rng.next_f64() < p
}

/// Spherical linear interpolation between two latent vectors (falls back to linear when they
/// are (anti)parallel or tiny).
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let na = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let t = t as f64;
    let lerp = || a.iter().zip(b).map(|(x, y)| ((1.0 - t) * *x as f64 + t * *y as f64) as f32).collect();
    if na < 1e-8 || nb < 1e-8 {
        return lerp();
    }
    let dot = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum::<f64>() / (na * nb);
    let omega = dot.clamp(-1.0, 1.0).acos();
    let so = omega.sin();
    if so.abs() < 1e-6 {
        return lerp();
    }
    let ka = ((1.0 - t) * omega).sin() / so;
    let kb = (t * omega).sin() / so;
    a.iter().zip(b).map(|(x, y)| (ka * *x as f64 + kb * *y as f64) as f32).collect()
}

/// Shannon entropy (bits) of a histogram.
pub fn entropy_bits(counts: &[usize]) -> f64 {
    let n: usize = counts.iter().sum();
    if n == 0 {
        return 0.0;
    }
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg_is_reproducible_and_streams_differ() {
        let a: Vec<u32> = (0..4)
            .map({
                let mut r = Pcg32::new(7, 1);
                move |_| r.next_u32()
            })
            .collect();
        let b: Vec<u32> = (0..4)
            .map({
                let mut r = Pcg32::new(7, 1);
                move |_| r.next_u32()
            })
            .collect();
        let c: Vec<u32> = (0..4)
            .map({
                let mut r = Pcg32::new(7, 2);
                move |_| r.next_u32()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut r = Pcg32::new(1, 0);
        let n = 20_000;
        let xs: Vec<f64> = (0..n).map(|_| r.next_normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.03 && (var - 1.0).abs() < 0.05, "{mean} {var}");
    }

    #[test]
    fn greedy_mask_and_temperature() {
        let logits = [0.0f32, 3.0, 1.0, 2.0];
        let mut rngs = vec![Pcg32::new(0, 0)];
        let mut out = [0i64];
        sample_rows(&logits, 4, 0.0, None, &mut rngs, &mut out);
        assert_eq!(out[0], 1);
        let mask = [true, false, true, true];
        sample_rows(&logits, 4, 0.0, Some(&mask), &mut rngs, &mut out);
        assert_eq!(out[0], 3);
        // Sampling never picks a masked token and follows the distribution roughly.
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            sample_rows(&logits, 4, 1.0, Some(&mask), &mut rngs, &mut out);
            counts[out[0] as usize] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!(counts[3] > counts[2] && counts[2] > counts[0]);
        // Higher temperature, flatter distribution.
        let mut hot = [0usize; 4];
        let mut cold = [0usize; 4];
        for _ in 0..4000 {
            sample_rows(&logits, 4, 3.0, None, &mut rngs, &mut out);
            hot[out[0] as usize] += 1;
            sample_rows(&logits, 4, 0.3, None, &mut rngs, &mut out);
            cold[out[0] as usize] += 1;
        }
        assert!(entropy_bits(&hot) > entropy_bits(&cold));
    }

    #[test]
    fn fast_exp2() {
        for i in 0..=20_000 {
            let x = -(i as f32) * 0.0063;
            let want = (x as f64).exp2();
            let got = exp2_nonpositive(x) as f64;
            assert!((got - want).abs() <= want * 2e-6 + 1e-38, "{x}: {got} vs {want}");
        }
        assert!(exp2_nonpositive(-200.0) < 1e-37);
        assert!(exp2_nonpositive(f32::NEG_INFINITY) < 1e-37);
        assert_eq!(exp2_nonpositive(0.0), 1.0);
    }

    #[test]
    fn slerp_endpoints() {
        let a = [1.0f32, 0.0];
        let b = [0.0f32, 2.0];
        assert_eq!(slerp(&a, &b, 0.0), vec![1.0, 0.0]);
        let e = slerp(&a, &b, 1.0);
        assert!((e[0]).abs() < 1e-6 && (e[1] - 2.0).abs() < 1e-6);
        let m = slerp(&a, &b, 0.5);
        assert!(m[0] > 0.5 && m[1] > 0.5);
    }
}
