"""PyTorch twin of Landmark Attention's training form, the grouped softmax of Mohtashami &
Jaggi 2023 ("Landmark Attention: Random-Access Infinite Context Length for Transformers",
arXiv 2305.16300), and the reference for the Swift CPU kernels
(Sources/HSACPU/LandmarkAttention*.swift). Gradients come from autograd. Run this file
directly for its self-checks:

    python3 reference/landmark_reference.py

Letters: B batch, T positions (landmarks included), H query heads, HKV key/value heads
(H % HKV == 0, head h reads kv head h // (H // HKV)), D head size, S ordinary tokens per block.
Layouts: q, out (B, T, H, D); k, v (B, T, HKV, D); lse (B, T, H). Scores s = q . k / sqrt(D)
on q and k as given (the layer applies RoPE before, or nothing).

Token layout: block c holds positions c(S+1) .. c(S+1)+S; its landmark is the last of them,
c(S+1)+S (the original appends a landmark after every S tokens). A trailing incomplete block
has no landmark. For the query at t in block c (a landmark query included):
  own   = ordinary positions of block c up to t (never block c's landmark)
  outer = softmax over own + the landmarks of blocks b < c               -> p
  inner = per earlier block b, softmax over its S ordinary positions      -> r
  out_t = sum_{j in own} p_j v_j + sum_{b<c} p_{L_b} sum_{j in b} r_j v_j
lse is the outer softmax's log-sum-exp.
"""

from __future__ import annotations

import math

import torch


def layout(T: int, S: int):
    """(T,) block index and (T,) landmark flag of each position."""
    pos = torch.arange(T)
    return pos // (S + 1), pos % (S + 1) == S


def landmark_attention(q, k, v, block_size: int):
    """Vectorised grouped softmax over dense (T, T) masks. Returns out, lse."""
    Bsz, T, H, D = q.shape
    S, P = block_size, block_size + 1
    G = H // k.shape[2]
    kh, vh = k.repeat_interleave(G, dim=2), v.repeat_interleave(G, dim=2)
    s = torch.einsum("bthd,bjhd->bhtj", q, kh) / math.sqrt(D)           # (B, H, T, T)
    blk, lm = layout(T, S)
    t_idx, j_idx = torch.arange(T)[:, None], torch.arange(T)[None, :]
    own = (blk[:, None] == blk[None, :]) & (j_idx <= t_idx) & ~lm[None, :]
    gate = lm[None, :] & (blk[None, :] < blk[:, None])
    earlier = ~lm[None, :] & (blk[None, :] < blk[:, None])
    neg = torch.finfo(s.dtype).min
    outer_logits = s.masked_fill(~(own | gate), float("-inf"))
    lse = torch.logsumexp(outer_logits, dim=-1)                         # (B, H, T)
    p = torch.exp(outer_logits - lse[..., None])
    # Inner softmax of every block for every query, on columns padded to NB (S+1).
    NB = (T + S) // P
    pad = NB * P - T
    s_pad = torch.nn.functional.pad(s, (0, pad), value=neg)
    valid = torch.nn.functional.pad(~lm, (0, pad), value=False).reshape(NB, P)
    inner = torch.softmax(s_pad.reshape(Bsz, H, T, NB, P).masked_fill(~valid, float("-inf")),
                          dim=-1)
    p_gate = torch.nn.functional.pad(p, (0, pad)).reshape(Bsz, H, T, NB, P)[..., S]
    via_gate = (inner * p_gate[..., None]).reshape(Bsz, H, T, NB * P)[..., :T]
    w = torch.where(own, p, torch.where(earlier, via_gate, torch.zeros_like(p)))
    out = torch.einsum("bhtj,bjhd->bthd", w, vh)
    return out, lse.permute(0, 2, 1)


def landmark_attention_loop(q, k, v, block_size: int):
    """The definition, one query at a time with explicit index lists (the oracle)."""
    Bsz, T, H, D = q.shape
    G = H // k.shape[2]
    blk, lm = layout(T, block_size)
    blk, lm = blk.tolist(), lm.tolist()
    outs, lses = [], []
    for b in range(Bsz):
        for t in range(T):
            for h in range(H):
                qt = q[b, t, h]
                def score(js):
                    return torch.stack([qt @ k[b, j, h // G] for j in js]) / math.sqrt(D)
                own = [j for j in range(t + 1) if blk[j] == blk[t] and not lm[j]]
                gates = [j for j in range(T) if lm[j] and blk[j] < blk[t]]
                outer = own + gates
                logits = score(outer)
                lse = torch.logsumexp(logits, 0)
                p = torch.exp(logits - lse)
                o = torch.zeros_like(qt)
                for pj, j in zip(p, outer):
                    if not lm[j]:
                        o = o + pj * v[b, j, h // G]
                        continue
                    members = [i for i in range(T) if blk[i] == blk[j] and not lm[i]]
                    r = torch.softmax(score(members), 0)
                    for ri, i in zip(r, members):
                        o = o + pj * ri * v[b, i, h // G]
                outs.append(o)
                lses.append(lse)
    return (torch.stack(outs).reshape(Bsz, T, H, D), torch.stack(lses).reshape(Bsz, T, H))


def landmark_retrieval(query, landmark_keys, top_k: int):
    """Inference retrieval: query (H, D), landmark_keys (NB, HKV, D) -> scores (H, NB) and
    indices (H, K) int32: the K best blocks per head (stable descending sort, ties to the
    earlier block) in ascending block order, -1 past NB."""
    H, D = query.shape
    NB, HKV = landmark_keys.shape[:2]
    keys = landmark_keys.repeat_interleave(H // HKV, dim=1)            # (NB, H, D)
    scores = torch.einsum("hd,nhd->hn", query, keys) / math.sqrt(D)
    order = torch.sort(-scores, dim=-1, stable=True).indices[:, :top_k]
    kept = torch.sort(order, dim=-1).values
    indices = torch.full((H, top_k), -1, dtype=torch.int32)
    indices[:, :kept.shape[1]] = kept.to(torch.int32)
    return scores, indices


def random_inputs(Bsz, T, H, HKV, D, gen, dtype=torch.float32):
    return (torch.randn(Bsz, T, H, D, generator=gen, dtype=dtype),
            torch.randn(Bsz, T, HKV, D, generator=gen, dtype=dtype),
            torch.randn(Bsz, T, HKV, D, generator=gen, dtype=dtype))


def value_and_grads(fn, q, k, v, dout, block_size):
    """out, lse and the gradients of sum(dout * out) with respect to q, k, v."""
    q, k, v = (x.detach().clone().requires_grad_(True) for x in (q, k, v))
    out, lse = fn(q, k, v, block_size)
    dq, dk, dv = torch.autograd.grad((out * dout).sum(), (q, k, v))
    return out.detach(), lse.detach(), {"q": dq, "k": dk, "v": dv}


def _self_checks() -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    worst = 0.0
    # Vectorised == loop (values and autograd gradients), T a multiple of S+1 and not, S = 1.
    for (Bsz, T, H, HKV, D, S) in [(2, 17, 4, 2, 3, 4), (1, 12, 2, 1, 4, 3), (1, 9, 3, 3, 2, 1),
                                   (1, 6, 2, 2, 3, 8)]:
        q, k, v = random_inputs(Bsz, T, H, HKV, D, gen, torch.float64)
        dout = torch.randn(Bsz, T, H, D, generator=gen, dtype=torch.float64)
        o1, l1, g1 = value_and_grads(landmark_attention, q, k, v, dout, S)
        o2, l2, g2 = value_and_grads(landmark_attention_loop, q, k, v, dout, S)
        diff = max([(o1 - o2).abs().max().item(), (l1 - l2).abs().max().item()]
                   + [(g1[n] - g2[n]).abs().max().item() for n in "qkv"])
        assert diff < 1e-12, (T, S, diff)
        worst = max(worst, diff)
    # gradcheck of the vectorised form.
    q, k, v = (x.requires_grad_(True) for x in random_inputs(1, 11, 2, 1, 3, gen, torch.float64))
    assert torch.autograd.gradcheck(lambda q, k, v: landmark_attention(q, k, v, 3)[0], (q, k, v))
    # One block only (T <= S): causal softmax attention.
    q, k, v = random_inputs(2, 7, 4, 2, 5, gen, torch.float64)
    out, _ = landmark_attention(q, k, v, 8)
    ref = torch.nn.functional.scaled_dot_product_attention(
        q.transpose(1, 2), k.repeat_interleave(2, 2).transpose(1, 2),
        v.repeat_interleave(2, 2).transpose(1, 2), is_causal=True).transpose(1, 2)
    assert (out - ref).abs().max().item() < 1e-12
    # Weights sum to one and skip landmark values: v = one-hot positions (D = T).
    T, S = 14, 3
    q, k, _ = random_inputs(1, T, 2, 1, T, gen, torch.float64)
    eye = torch.eye(T, dtype=torch.float64)[None, :, None, :]
    w, _ = landmark_attention(q, k, eye, S)
    _, lm = layout(T, S)
    assert (w.sum(-1) - 1).abs().max().item() < 1e-12
    assert (w[..., lm] == 0).all() and (w >= 0).all()
    assert torch.triu(w[0].permute(1, 0, 2), diagonal=1).abs().max().item() == 0
    # Retrieval: exp(score - lse) is the training form's gate on each earlier block.
    q, k, v = random_inputs(1, 28, 2, 1, 4, gen, torch.float64)
    _, lse = landmark_attention(q, k, v, 4)
    t = 27
    scores, indices = landmark_retrieval(q[0, t], k[0, 4::5][:5], 1)
    one_hot = torch.eye(28, dtype=torch.float64)[None, :, None, :]     # v with Dv = T
    w, _ = landmark_attention(q, k, one_hot, 4)
    mass = w[0, t].reshape(2, 28)[:, :25].reshape(2, 5, 5)[..., :4].sum(-1)   # (H, blocks)
    assert (torch.exp(scores - lse[0, t][:, None]) - mass).abs().max().item() < 1e-12
    assert (indices[:, 0] == mass.argmax(-1)).all()
    _, tied = landmark_retrieval(q[0, t], k[0, :1].expand(6, 1, 4), 4)
    assert tied.tolist() == [[0, 1, 2, 3]] * 2
    _, padded = landmark_retrieval(q[0, t], k[0, 4::5][:2], 3)
    assert (padded[:, 2] == -1).all()
    print(f"landmark_reference: vectorised vs loop max diff {worst:.1e}; gradcheck, causal "
          f"one-block, weight and retrieval checks passed")


if __name__ == "__main__":
    _self_checks()
