//! A plain-loop f64 Llama forward pass over the host weights, written from
//! the numpy oracle (shared/reference/llama_np.py) and independent of Burn,
//! to check the Burn model's layouts (transposes, head order, RoPE halves,
//! grouped-query mapping, tied head) without the real checkpoint.

use rlr_weights::Weights;

/// Logits `[time][vocab]` of one unpadded sequence.
pub fn forward(w: &Weights, ids: &[usize]) -> Vec<Vec<f64>> {
    let c = &w.config;
    let (nh, nkv, hd) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
    let t = |name: &str| &w.tensors[name];
    // y[o] = sum_i m[o][i] x[i] for a row-major [out, in] matrix.
    let matvec = |name: &str, x: &[f64]| -> Vec<f64> {
        let m = t(name);
        let cols = m.shape[1];
        m.data
            .chunks_exact(cols)
            .map(|row| row.iter().zip(x).map(|(&a, &b)| f64::from(a) * b).sum())
            .collect()
    };
    let rms = |x: &[f64], name: &str| -> Vec<f64> {
        let g = &t(name).data;
        let ms = x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64;
        let s = 1.0 / (ms + c.rms_norm_eps).sqrt();
        x.iter()
            .zip(g)
            .map(|(v, &g)| v * s * f64::from(g))
            .collect()
    };
    let rope = |x: &mut [f64], pos: usize| {
        for head in x.chunks_exact_mut(hd) {
            let half = hd / 2;
            for i in 0..half {
                let a = pos as f64 * c.rope_theta.powf(-(2.0 * i as f64) / hd as f64);
                let (x1, x2) = (head[i], head[i + half]);
                head[i] = x1 * a.cos() - x2 * a.sin();
                head[i + half] = x2 * a.cos() + x1 * a.sin();
            }
        }
    };
    let emb = t("model.embed_tokens.weight");
    let width = c.hidden_size;
    let mut xs: Vec<Vec<f64>> = ids
        .iter()
        .map(|&id| {
            emb.data[id * width..(id + 1) * width]
                .iter()
                .map(|&v| f64::from(v))
                .collect()
        })
        .collect();
    for l in 0..c.num_hidden_layers {
        let p = format!("model.layers.{l}.");
        let (mut qs, mut ks, mut vs) = (vec![], vec![], vec![]);
        for (pos, x) in xs.iter().enumerate() {
            let h = rms(x, &format!("{p}input_layernorm.weight"));
            let mut q = matvec(&format!("{p}self_attn.q_proj.weight"), &h);
            let mut k = matvec(&format!("{p}self_attn.k_proj.weight"), &h);
            rope(&mut q, pos);
            rope(&mut k, pos);
            qs.push(q);
            ks.push(k);
            vs.push(matvec(&format!("{p}self_attn.v_proj.weight"), &h));
        }
        for (i, x) in xs.iter_mut().enumerate() {
            let mut o = vec![0.0; nh * hd];
            for head in 0..nh {
                // np.repeat: key/value head j serves query heads j*g .. j*g+g-1.
                let kv = head / (nh / nkv);
                let q = &qs[i][head * hd..(head + 1) * hd];
                let scores: Vec<f64> = (0..=i)
                    .map(|j| {
                        let k = &ks[j][kv * hd..(kv + 1) * hd];
                        q.iter().zip(k).map(|(a, b)| a * b).sum::<f64>() / (hd as f64).sqrt()
                    })
                    .collect();
                let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let z: f64 = e.iter().sum();
                for (j, ej) in e.iter().enumerate() {
                    for d in 0..hd {
                        o[head * hd + d] += ej / z * vs[j][kv * hd + d];
                    }
                }
            }
            let a = matvec(&format!("{p}self_attn.o_proj.weight"), &o);
            x.iter_mut().zip(&a).for_each(|(x, a)| *x += a);
            let h = rms(x, &format!("{p}post_attention_layernorm.weight"));
            let g = matvec(&format!("{p}mlp.gate_proj.weight"), &h);
            let u = matvec(&format!("{p}mlp.up_proj.weight"), &h);
            let m: Vec<f64> = g
                .iter()
                .zip(&u)
                .map(|(g, u)| g / (1.0 + (-g).exp()) * u)
                .collect();
            let d = matvec(&format!("{p}mlp.down_proj.weight"), &m);
            x.iter_mut().zip(&d).for_each(|(x, d)| *x += d);
        }
    }
    let head = if c.tie_word_embeddings {
        "model.embed_tokens.weight"
    } else {
        "lm_head.weight"
    };
    xs.iter()
        .map(|x| matvec(head, &rms(x, "model.norm.weight")))
        .collect()
}
