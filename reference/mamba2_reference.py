"""PyTorch twin of the Mamba2 SSD (state-space duality) scan, the core op of a Mamba2 mixer
("Transformers are SSMs", Dao & Gu 2024), and the reference for the Swift CPU kernels
(Sources/HSACPU/SSDScan.swift, SSDScanBackward.swift). Gradients come from autograd. Run this
file directly for its self-checks:

    python3 reference/mamba2_reference.py

Letters: B batch, T tokens, H heads, P head size, G groups of heads sharing B and C
(H % G == 0, head h reads group h // (H // G)), N state size, L chunk length.
Layouts: x, y (B, T, H, P); dt (B, T, H); A, D (H); Bm, Cm (B, T, G, N);
initial and final state (B, H, P, N). Per batch row and head, with state h_t of size (P, N):

    h_t = exp(dt_t A) h_{t-1} + dt_t x_t Bm_t^T,   y_t = h_t Cm_t + D x_t,

from h_{-1} = the initial state; the final state is h_{T-1} (the next segment's initial state).
dt is the step size after softplus(raw + bias) (positive), A the negative per-head decay rate.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _expand_groups(m: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, T, G, N) -> (B, T, H, N): head h gets group h // (H // G)."""
    return m.repeat_interleave(heads // m.shape[2], dim=2)


def ssd_sequential(x, dt, A, Bm, Cm, D, initial_state):
    """The recurrence token by token (the oracle). Returns y (B, T, H, P), final (B, H, P, N)."""
    H = x.shape[2]
    Bh, Ch = _expand_groups(Bm, H), _expand_groups(Cm, H)
    h = initial_state
    ys = []
    for t in range(x.shape[1]):
        decay = torch.exp(dt[:, t] * A)                                    # (B, H)
        h = decay[..., None, None] * h + torch.einsum(
            "bh,bhp,bhn->bhpn", dt[:, t], x[:, t], Bh[:, t])
        ys.append(torch.einsum("bhpn,bhn->bhp", h, Ch[:, t]) + D[:, None] * x[:, t])
    y = torch.stack(ys, dim=1) if ys else torch.zeros_like(x)
    return y, h


def _segment_sum(a: torch.Tensor) -> torch.Tensor:
    """(..., L) -> (..., L, L): out[i, j] = Σ_{j<k<=i} a_k for j <= i, -inf above the diagonal
    (exp of it is the causal decay mask from token j to token i)."""
    L = a.shape[-1]
    cum = torch.cumsum(a, dim=-1)
    diff = cum[..., :, None] - cum[..., None, :]
    mask = torch.tril(torch.ones(L, L, dtype=torch.bool, device=a.device))
    return diff.masked_fill(~mask, float("-inf"))


def ssd_chunked(x, dt, A, Bm, Cm, D, initial_state, chunk: int = 64):
    """The chunked form (what the Swift and CUDA kernels compute), after ssd_minimal_discrete of
    the mamba_ssm repository plus D, groups, an initial state and T not a multiple of L (the
    tail is padded with dt = 0: no decay and no input, so it changes nothing):
      1. intra-chunk: y_i += Σ_{j<=i} exp(cum_i - cum_j) dt_j (Cm_i · Bm_j) x_j
      2. chunk states: the state each chunk adds, Σ_j exp(cum_last - cum_j) dt_j x_j Bm_j^T
      3. state passing: S_{c+1} = exp(cum_last of c) S_c + (2.), from the initial state
      4. inter-chunk: y_i += exp(cum_i) S_c Cm_i, then y += D x."""
    Bsz, T, H, P = x.shape
    pad = (-T) % chunk
    Bh, Ch = _expand_groups(Bm, H), _expand_groups(Cm, H)
    if pad:
        x, Bh, Ch = (F.pad(t, (0, 0, 0, 0, 0, pad)) for t in (x, Bh, Ch))
        dt_p = F.pad(dt, (0, 0, 0, pad))
    else:
        dt_p = dt
    nc = (T + pad) // chunk

    def chunks(t):  # (B, T, ...) -> (B, nc, L, ...)
        return t.reshape(Bsz, nc, chunk, *t.shape[2:])

    xc, Bc, Cc = chunks(x), chunks(Bh), chunks(Ch)
    a = chunks(dt_p * A).permute(0, 3, 1, 2)                    # (B, H, nc, L)
    dtc = chunks(dt_p)                                          # (B, nc, L, H)
    cum = torch.cumsum(a, dim=-1)                               # (B, H, nc, L)

    decay = torch.exp(_segment_sum(a))                          # (B, H, nc, L, L)
    y_intra = torch.einsum("bclhn,bcshn,bhcls,bcsh,bcshp->bclhp", Cc, Bc, decay, dtc, xc)

    to_end = torch.exp(cum[..., -1:] - cum)                     # (B, H, nc, L)
    added = torch.einsum("bclhn,bhcl,bclh,bclhp->bchpn", Bc, to_end, dtc, xc)

    chunk_decay = torch.exp(cum[..., -1])                       # (B, H, nc)
    states = [initial_state]
    for c in range(nc):
        states.append(chunk_decay[:, :, c, None, None] * states[-1] + added[:, c])
    starts = torch.stack(states[:-1], dim=1)                    # (B, nc, H, P, N)

    y_inter = torch.einsum("bclhn,bchpn,bhcl->bclhp", Cc, starts, torch.exp(cum))
    y = (y_intra + y_inter).reshape(Bsz, T + pad, H, P)[:, :T] + D[:, None] * x[:, :T]
    return y, states[-1]


def random_inputs(B, T, H, P, G, N, gen: torch.Generator, dtype=torch.float32):
    """Inputs like a Mamba2 layer's: dt = softplus(raw + bias) in about (0.05, 1.3),
    A = -uniform(0.5, 2), x, Bm, Cm, D and the initial state normal (Bm, Cm scaled by 0.7)."""
    def randn(*shape, scale=1.0):
        return torch.randn(*shape, generator=gen, dtype=dtype) * scale

    dt = F.softplus(randn(B, T, H, scale=0.7) - 1.0)
    A = -(0.5 + 1.5 * torch.rand(H, generator=gen, dtype=dtype))
    return dict(x=randn(B, T, H, P), dt=dt, A=A, Bm=randn(B, T, G, N, scale=0.7),
                Cm=randn(B, T, G, N, scale=0.7), D=randn(H),
                initial_state=randn(B, H, P, N))


NAMES = ("x", "dt", "A", "Bm", "Cm", "D", "initial_state")


def value_and_grads(fn, inputs: dict, dy: torch.Tensor, dfinal: torch.Tensor, **kw):
    """Runs fn on leaf copies of inputs; returns y, final state and the gradients of
    sum(dy * y) + sum(dfinal * final) with respect to every input (NAMES order)."""
    leaves = {k: inputs[k].detach().clone().requires_grad_(True) for k in NAMES}
    y, final = fn(*(leaves[k] for k in NAMES), **kw)
    ((y * dy).sum() + (final * dfinal).sum()).backward()
    return y.detach(), final.detach(), {k: leaves[k].grad for k in NAMES}


def _self_check() -> None:
    gen = torch.Generator().manual_seed(0)
    for B, T, H, P, G, N, L in [(2, 37, 4, 4, 2, 6, 8), (1, 20, 3, 2, 1, 5, 64),
                                (2, 16, 4, 3, 4, 2, 4), (1, 9, 2, 3, 2, 4, 1)]:
        inp = random_inputs(B, T, H, P, G, N, gen, torch.float64)
        dy = torch.randn(B, T, H, P, generator=gen, dtype=torch.float64)
        dfinal = torch.randn(B, H, P, N, generator=gen, dtype=torch.float64)
        ys, fs, gs = value_and_grads(ssd_sequential, inp, dy, dfinal)
        yc, fc, gc = value_and_grads(ssd_chunked, inp, dy, dfinal, chunk=L)
        err = max([(ys - yc).abs().max().item(), (fs - fc).abs().max().item()]
                  + [(gs[k] - gc[k]).abs().max().item() for k in NAMES])
        assert err < 1e-10, (B, T, H, P, G, N, L, err)
        # State passing: two segments, the first's final state into the second.
        split = T // 3
        first = {k: (v[:, :split] if v.dim() >= 3 and k != "initial_state" else v)
                 for k, v in inp.items()}
        second = {k: (v[:, split:] if v.dim() >= 3 and k != "initial_state" else v)
                  for k, v in inp.items()}
        y1, f1 = ssd_chunked(**first, chunk=L)
        y2, f2 = ssd_chunked(**{**second, "initial_state": f1}, chunk=L)
        assert torch.allclose(torch.cat([y1, y2], dim=1), ys, atol=1e-12)
        assert torch.allclose(f2, fs, atol=1e-12)
        print(f"B={B} T={T} H={H} P={P} G={G} N={N} L={L}: chunked == sequential "
              f"(values and gradients, max abs diff {err:.1e}); two segments == one run")
    # Gradient check of the sequential form itself.
    inp = random_inputs(1, 5, 2, 2, 1, 3, gen, torch.float64)
    assert torch.autograd.gradcheck(
        lambda *a: ssd_sequential(*a), tuple(inp[k].requires_grad_(True) for k in NAMES))
    print("autograd gradcheck of the sequential form passes")


if __name__ == "__main__":
    _self_check()
