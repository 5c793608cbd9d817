"""PyTorch twin of the hsa model: a decoder-only LM with sliding-window attention (SWA) and
chunk-based hierarchical sparse attention (HSA) in the upper decoder.

Written from ../shared/MODEL.md (the spec) and docs/MODEL-NOTES.md (the details it leaves open).
It is the golden reference for the Swift code: clarity first, but vectorised enough to run a
4096-token training step on a laptop CPU. Run this file directly for its self-checks:

    python3 reference/hsa_reference.py

Letters: B batch, T tokens, C d_model, V vocab, NH query heads, NKV key/value heads, G = NH/NKV,
HS head size, F d_ff, W window, S chunk size, NC = T // S complete chunks, K top-k,
DR = retrieval_dim / NKV.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

NORM_EPS = 1e-6

LANDMARKS = ("cls", "encoder_mean", "mean")
CHUNK_KVS = ("encoder", "identity")
FUSIONS = ("stick_breaking", "softmax", "joint")
RETRIEVALS = ("per_token", "per_chunk")
RESIDUALS = ("bypass", "sequential")
ATTENTIONS = ("hsa", "swa", "full")


# MARK: - Config


@dataclass
class HSAConfig:
    """The fields of config.json (MODEL.md "Config"); defaults are the `tiny` preset."""

    vocab_size: int = 259
    d_model: int = 32
    n_lower_layers: int = 1
    n_upper_layers: int = 1
    hsa_layers: list[int] = field(default_factory=lambda: [0])
    n_heads: int = 2
    n_kv_heads: int = 1
    head_dim: int = 16
    d_ff: int = 64
    window: int = 16
    rope_theta: float = 10000.0
    chunk_size: int = 8
    encoder_layers: int = 1
    top_k: int = 2
    landmark: str = "cls"
    chunk_kv: str = "encoder"
    fusion: str = "stick_breaking"
    retrieval: str = "per_token"
    residual: str = "bypass"
    separate_retrieval_query: bool = True
    qk_norm: bool = True
    attention: str = "hsa"
    tie_embeddings: bool = False
    max_train_len: int = 4096
    retrieval_dim: Optional[int] = None  # None -> d_model

    def __post_init__(self) -> None:
        self.hsa_layers = list(self.hsa_layers)
        self.validate()

    # -- derived sizes --
    @property
    def dr(self) -> int:
        """Retrieval head size DR = retrieval_dim / NKV."""
        return self.resolved_retrieval_dim // self.n_kv_heads

    @property
    def resolved_retrieval_dim(self) -> int:
        return self.d_model if self.retrieval_dim is None else self.retrieval_dim

    @property
    def group_size(self) -> int:
        return self.n_heads // self.n_kv_heads

    def is_hsa_layer(self, j: int) -> bool:
        return self.attention == "hsa" and j in self.hsa_layers

    def validate(self) -> None:
        def fail(name: str, msg: str) -> None:
            raise ValueError(f"config field '{name}': {msg}")

        for name in ("vocab_size", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ff",
                     "window", "chunk_size", "top_k", "max_train_len"):
            if getattr(self, name) < 1:
                fail(name, f"expected >= 1, got {getattr(self, name)}")
        for name in ("n_lower_layers", "n_upper_layers", "encoder_layers"):
            if getattr(self, name) < 0:
                fail(name, f"expected >= 0, got {getattr(self, name)}")
        for name, allowed in (("landmark", LANDMARKS), ("chunk_kv", CHUNK_KVS),
                              ("fusion", FUSIONS), ("retrieval", RETRIEVALS),
                              ("residual", RESIDUALS), ("attention", ATTENTIONS)):
            if getattr(self, name) not in allowed:
                fail(name, f"expected one of {allowed}, got {getattr(self, name)!r}")
        if self.n_heads % self.n_kv_heads != 0:
            fail("n_heads", f"{self.n_heads} is not a multiple of n_kv_heads {self.n_kv_heads}")
        if self.head_dim % 2 != 0:
            fail("head_dim", f"RoPE needs an even head size, got {self.head_dim}")
        if self.rope_theta <= 0:
            fail("rope_theta", f"expected > 0, got {self.rope_theta}")
        if self.attention != "hsa":
            return  # hsa_layers and the chunk-memory knobs are ignored
        for j in self.hsa_layers:
            if not 0 <= j < self.n_upper_layers:
                fail("hsa_layers", f"index {j} outside 0..<{self.n_upper_layers}")
        if len(set(self.hsa_layers)) != len(self.hsa_layers):
            fail("hsa_layers", f"duplicate indices in {self.hsa_layers}")
        rd = self.resolved_retrieval_dim
        if rd < 1 or rd % self.n_kv_heads != 0:
            fail("retrieval_dim", f"{rd} must be a positive multiple of n_kv_heads")
        if self.encoder_layers == 0 and (self.landmark != "mean" or self.chunk_kv != "identity"):
            fail("encoder_layers", "0 requires landmark 'mean' and chunk_kv 'identity'")
        if not self.separate_retrieval_query and self.dr != self.head_dim:
            fail("separate_retrieval_query",
                 f"false requires retrieval_dim / n_kv_heads ({self.dr}) == head_dim "
                 f"({self.head_dim}); hint: set retrieval_dim to {self.head_dim * self.n_kv_heads}")

    # -- (de)serialisation --
    def to_dict(self, resolve: bool = True) -> dict:
        d = dataclasses.asdict(self)
        if resolve:
            d["retrieval_dim"] = self.resolved_retrieval_dim
        return d

    def to_json(self, resolve: bool = True) -> str:
        return json.dumps(self.to_dict(resolve), sort_keys=False)

    @classmethod
    def from_dict(cls, d: dict) -> "HSAConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"config: unknown field(s) {unknown}")
        return cls(**d)

    @classmethod
    def preset(cls, name: str, **overrides) -> "HSAConfig":
        """`tiny`, `small` or `paper` (MODEL.md "Config and presets"), byte vocabulary 259."""
        presets = {
            "tiny": dict(d_model=32, n_lower_layers=1, n_upper_layers=1, n_heads=2, n_kv_heads=1,
                         head_dim=16, d_ff=64, window=16, chunk_size=8, top_k=2,
                         encoder_layers=1, hsa_layers=[0]),
            "small": dict(d_model=256, n_lower_layers=4, n_upper_layers=4, n_heads=8,
                          n_kv_heads=2, head_dim=32, d_ff=768, window=512, chunk_size=64,
                          top_k=8, encoder_layers=2, hsa_layers=[0, 2]),
            "paper": dict(d_model=1024, n_lower_layers=8, n_upper_layers=8, n_heads=16,
                          n_kv_heads=4, head_dim=64, d_ff=2816, window=512, chunk_size=64,
                          top_k=8, encoder_layers=2, hsa_layers=[0, 2, 4, 6]),
        }
        if name not in presets:
            raise ValueError(f"unknown preset {name!r}; expected one of {sorted(presets)}")
        return cls(**{**presets[name], **overrides})


# MARK: - Building blocks


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + 1e-6) * weight over the last dimension."""

    def __init__(self, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + NORM_EPS) * self.weight


def rope_cos_sin(n_positions: int, head_dim: int, theta: float, device=None):
    """cos, sin (P, HS/2) for positions 0..P-1; angle = pos * theta^(-2i/HS), computed in fp64."""
    i = torch.arange(head_dim // 2, dtype=torch.float64, device=device)
    inv_freq = theta ** (-2.0 * i / head_dim)
    pos = torch.arange(n_positions, dtype=torch.float64, device=device)
    angles = pos[:, None] * inv_freq[None, :]
    return angles.cos().float(), angles.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate-half RoPE. x (..., P, heads, HS); cos/sin (P, HS/2). Pair i is (x[i], x[i+HS/2])."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, cfg: HSAConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.down_proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


# MARK: - Attention kernels (q, k, v laid out (B, heads, P, HS), k/v already expanded to NH)


def sliding_window_attention(q, k, v, window: Optional[int]):
    """Causal attention where position t sees max(0, t-W+1)..t; window None = full causal.

    Computed over query blocks of W rows that see their own block and the previous one
    (2W keys), so memory is O(T W), never O(T^2).
    """
    B, NH, T, HS = q.shape
    if window is None or window >= T:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    W = window
    nb = -(-T // W)
    pad = nb * W - T
    qb = F.pad(q, (0, 0, 0, pad)).view(B, NH, nb, W, HS)
    # W zero rows in front: block n's keys are positions (n-1)W .. (n+1)W-1.
    kb = F.pad(k, (0, 0, W, pad)).unfold(2, 2 * W, W).transpose(-1, -2)  # (B,NH,nb,2W,HS)
    vb = F.pad(v, (0, 0, W, pad)).unfold(2, 2 * W, W).transpose(-1, -2)
    a = torch.arange(W, device=q.device)[:, None]          # query offset in its block
    b = torch.arange(2 * W, device=q.device)[None, :]      # key offset; key pos = (n-1)W + b
    band = (b > a) & (b <= a + W)                          # t-W < key <= t
    n = torch.arange(nb, device=q.device)[:, None, None]
    mask = band[None] & ((n > 0) | (b[None] >= W))         # (nb, W, 2W): no keys before 0
    scores = (qb / math.sqrt(HS)) @ kb.transpose(-1, -2)  # (B,NH,nb,W,2W)
    probs = scores.masked_fill(~mask, float("-inf")).softmax(-1)
    out = probs @ vb                                       # (B,NH,nb,W,HS)
    return out.reshape(B, NH, nb * W, HS)[:, :, :T]


class Attention(nn.Module):
    """Grouped-query attention with optional QK-norm (before RoPE) and optional q/k/v bias."""

    def __init__(self, cfg: HSAConfig, bias: bool = False):
        super().__init__()
        self.cfg = cfg
        C, NH, NKV, HS = cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.q_proj = nn.Linear(C, NH * HS, bias=bias)
        self.k_proj = nn.Linear(C, NKV * HS, bias=bias)
        self.v_proj = nn.Linear(C, NKV * HS, bias=bias)
        self.o_proj = nn.Linear(NH * HS, C, bias=False)
        if cfg.qk_norm:
            self.q_norm = RMSNorm(HS)
            self.k_norm = RMSNorm(HS)

    def forward(self, x, cos, sin, window: Optional[int], causal: bool = True):
        """x (B, P, C) -> (B, P, C). Bidirectional (encoder) when causal is False."""
        cfg = self.cfg
        B, P, _ = x.shape
        q = self.q_proj(x).view(B, P, cfg.n_heads, cfg.head_dim)
        k = self.k_proj(x).view(B, P, cfg.n_kv_heads, cfg.head_dim)
        v = self.v_proj(x).view(B, P, cfg.n_kv_heads, cfg.head_dim)
        if cfg.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        # query head h uses kv head h // G
        k = k.repeat_interleave(cfg.group_size, dim=2)
        v = v.repeat_interleave(cfg.group_size, dim=2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))   # (B, heads, P, HS)
        if causal:
            out = sliding_window_attention(q, k, v, window)
        else:
            out = F.scaled_dot_product_attention(q, k, v)
        return self.o_proj(out.transpose(1, 2).reshape(B, P, cfg.n_heads * cfg.head_dim))


# MARK: - Chunk memory


@dataclass
class ChunkMemory:
    landmarks: torch.Tensor  # (B, NC, NKV, DR)
    keys: torch.Tensor       # (B, NC, S, NKV, HS)
    values: torch.Tensor     # (B, NC, S, NKV, HS)


class ChunkEncoder(nn.Module):
    """Builds landmarks and chunk K/V once from H (MODEL-NOTES "Chunk encoder")."""

    def __init__(self, cfg: HSAConfig):
        super().__init__()
        self.cfg = cfg
        C = cfg.d_model
        if cfg.encoder_layers > 0:
            if cfg.landmark == "cls":
                self.cls = nn.Parameter(torch.zeros(C))
            self.layers = nn.ModuleList(DecoderLayer(cfg, bias=True)
                                        for _ in range(cfg.encoder_layers))
        self.norm = RMSNorm(C)
        self.landmark_proj = nn.Linear(C, cfg.n_kv_heads * cfg.dr, bias=False)
        self.k_proj = nn.Linear(C, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(C, cfg.n_kv_heads * cfg.head_dim, bias=False)

    def forward(self, H: torch.Tensor) -> ChunkMemory:
        cfg = self.cfg
        B, T, C = H.shape
        S, NKV = cfg.chunk_size, cfg.n_kv_heads
        NC = T // S
        rows = H[:, : NC * S].reshape(B * NC, S, C)  # raw, un-normalised residual rows
        use_encoder = cfg.encoder_layers > 0 and (cfg.landmark != "mean"
                                                  or cfg.chunk_kv == "encoder")
        if use_encoder:
            X = rows
            if cfg.landmark == "cls":
                X = torch.cat([rows, self.cls.expand(B * NC, 1, C)], dim=1)  # cls at position S
            cos, sin = rope_cos_sin(X.shape[1], cfg.head_dim, cfg.rope_theta, H.device)
            for layer in self.layers:
                X = layer(X, cos, sin, window=None, causal=False)
            X = self.norm(X)
            encoded_tokens = X[:, :S]
        if cfg.chunk_kv == "identity" or cfg.landmark == "mean":
            normed_rows = self.norm(rows)
        if cfg.landmark == "cls":
            landmark_in = X[:, S]
        elif cfg.landmark == "encoder_mean":
            landmark_in = encoded_tokens.mean(dim=1)
        else:
            landmark_in = normed_rows.mean(dim=1)
        kv_in = encoded_tokens if cfg.chunk_kv == "encoder" else normed_rows
        return ChunkMemory(
            landmarks=self.landmark_proj(landmark_in).view(B, NC, NKV, cfg.dr),
            keys=self.k_proj(kv_in).view(B, NC, S, NKV, cfg.head_dim),
            values=self.v_proj(kv_in).view(B, NC, S, NKV, cfg.head_dim),
        )


# MARK: - HSA


@dataclass
class Selection:
    scores: torch.Tensor    # (B, T, NKV, NC) retrieval scores of every chunk (ineligible too)
    eligible: torch.Tensor  # (T, NC) bool, chunk i < floor(t / S)
    indices: torch.Tensor   # (B, T, NKV, k) selected chunks, most recent first, k = min(K, NC)
    valid: torch.Tensor     # (B, T, NKV, k) bool; False where fewer than K chunks were eligible


def select_chunks(qs: torch.Tensor, landmarks: torch.Tensor, cfg: HSAConfig) -> Selection:
    """Top-K eligible chunks per (token, KV head). qs (B,T,NKV,DR), landmarks (B,NC,NKV,DR)."""
    B, T, NKV, DR = qs.shape
    NC = landmarks.shape[1]
    S = cfg.chunk_size
    t = torch.arange(T, device=qs.device)
    chunk_of_t = t // S
    if cfg.retrieval == "per_chunk":
        # every token of chunk c uses the query of position cS-1 (chunk 0 selects nothing)
        qs = qs[:, (chunk_of_t * S - 1).clamp(min=0)]
    scores = torch.einsum("btgd,bigd->btgi", qs, landmarks) / math.sqrt(DR)
    eligible = torch.arange(NC, device=qs.device)[None, :] < chunk_of_t[:, None]
    k = min(cfg.top_k, NC)
    masked = scores.detach().masked_fill(~eligible[None, :, None, :], float("-inf"))
    # stable descending sort: equal scores keep index order, i.e. ties go to the lower index
    top = torch.sort(masked, dim=-1, descending=True, stable=True).indices[..., :k]
    valid = eligible[t[None, :, None, None], top]
    # recency order for fusion: largest chunk index first, invalid slots last
    perm = torch.sort(torch.where(valid, top, -1), dim=-1, descending=True, stable=True).indices
    return Selection(scores, eligible, top.gather(-1, perm), valid.gather(-1, perm))


def fusion_weights(s: torch.Tensor, valid: torch.Tensor, fusion: str) -> torch.Tensor:
    """Weights (B,T,NKV,k) from selected scores s in recency order; zero on invalid slots."""
    s = torch.where(valid, s, torch.zeros_like(s))  # keep masked slots finite for backward
    if fusion == "stick_breaking":
        # w_k = sigmoid(s_k) prod_{j<k} (1 - sigmoid(s_j)) = exp(s_k - sum_{j<=k} softplus(s_j))
        log_w = s - torch.cumsum(F.softplus(s) * valid, dim=-1)
        return torch.where(valid, log_w.exp(), torch.zeros_like(s))
    if fusion == "softmax":
        w = s.masked_fill(~valid, float("-inf"))
        w = torch.where(valid.any(-1, keepdim=True), w, torch.zeros_like(w)).softmax(-1)
        return w * valid
    raise ValueError(f"fusion {fusion!r} has no chunk weights")


class HierarchicalSparseAttention(nn.Module):
    """The HSA sublayer of an upper layer (MODEL.md "HSA in an upper layer")."""

    def __init__(self, cfg: HSAConfig):
        super().__init__()
        self.cfg = cfg
        C, NH, NKV, HS = cfg.d_model, cfg.n_heads, cfg.n_kv_heads, cfg.head_dim
        self.norm = RMSNorm(C)
        if cfg.separate_retrieval_query:
            self.q_slc_proj = nn.Linear(C, NKV * cfg.dr, bias=False)
        self.q_proj = nn.Linear(C, NH * HS, bias=False)
        self.o_proj = nn.Linear(NH * HS, C, bias=False)
        if cfg.qk_norm:
            self.q_norm = RMSNorm(HS)
            self.k_norm = RMSNorm(HS)

    def forward(self, y: torch.Tensor, memory: ChunkMemory):
        """y (B,T,C) residual stream after SWA -> (hsa_out (B,T,C), Selection)."""
        cfg = self.cfg
        B, T, C = y.shape
        NH, NKV, G = cfg.n_heads, cfg.n_kv_heads, cfg.group_size
        HS, S = cfg.head_dim, cfg.chunk_size
        u = self.norm(y)
        qa = self.q_proj(u).view(B, T, NKV, G, HS)       # head h = g*G + j
        if cfg.separate_retrieval_query:
            qs = self.q_slc_proj(u).view(B, T, NKV, cfg.dr)
        else:
            qs = qa.mean(dim=3)                          # raw (pre-norm) group mean, DR == HS
        sel = select_chunks(qs, memory.landmarks, cfg)
        if sel.indices.shape[-1] == 0:                   # no complete chunk at all
            return self.o_proj(torch.zeros_like(qa).view(B, T, NH * HS)), sel

        keys, values = memory.keys, memory.values       # (B, NC, S, NKV, HS)
        if cfg.qk_norm:
            qa, keys = self.q_norm(qa), self.k_norm(keys)
        # gather the selected chunks' K/V per (token, KV head): rows of (B*NKV*NC, S, HS)
        NC, k = keys.shape[1], sel.indices.shape[-1]
        keys = keys.permute(0, 3, 1, 2, 4).reshape(B * NKV * NC, S, HS)
        values = values.permute(0, 3, 1, 2, 4).reshape(B * NKV * NC, S, HS)
        bg = torch.arange(B * NKV, device=y.device).view(B, 1, NKV, 1)
        rows = (bg * NC + sel.indices).flatten()
        kg = keys.index_select(0, rows).view(B, T, NKV, k * S, HS)
        vg = values.index_select(0, rows).view(B, T, NKV, k * S, HS)
        q = qa / math.sqrt(HS)                                       # (B, T, NKV, G, HS)
        logits = (q @ kg.transpose(-1, -2)).view(B, T, NKV, G, k, S)
        if cfg.fusion == "joint":
            # one softmax over the k*S concatenated keys; scores only select (no gradient)
            valid = sel.valid[:, :, :, None, :, None]                # over G and S
            flat = logits.masked_fill(~valid, float("-inf")).flatten(-2)
            any_valid = sel.valid.any(-1)[:, :, :, None, None]
            flat = torch.where(any_valid, flat, torch.zeros_like(flat))
            probs = flat.softmax(-1) * any_valid                     # (B,T,NKV,G,k*S)
        else:
            # softmax within each chunk, then fusion weights w over the chunks:
            # y = sum_k w_k softmax_k(logits) V_k, one product over the k*S rows
            s_sel = sel.scores.gather(-1, sel.indices)               # (B,T,NKV,k), differentiable
            w = fusion_weights(s_sel, sel.valid, cfg.fusion)
            probs = (logits.softmax(-1) * w[:, :, :, None, :, None]).flatten(-2)
        out = probs @ vg                                             # (B, T, NKV, G, HS)
        return self.o_proj(out.reshape(B, T, NH * HS)), sel


# MARK: - Decoder


class DecoderLayer(nn.Module):
    """Pre-norm [attention + SwiGLU MLP]; an upper layer in hsa_layers also owns `hsa`."""

    def __init__(self, cfg: HSAConfig, bias: bool = False, with_hsa: bool = False):
        super().__init__()
        self.cfg = cfg
        self.attn_norm = RMSNorm(cfg.d_model)
        self.attn = Attention(cfg, bias=bias)
        self.mlp_norm = RMSNorm(cfg.d_model)
        self.mlp = MLP(cfg)
        self.hsa = HierarchicalSparseAttention(cfg) if with_hsa else None

    def forward(self, x, cos, sin, window, causal=True, memory=None, selections=None):
        y = x + self.attn(self.attn_norm(x), cos, sin, window, causal)
        if self.hsa is None:
            return y + self.mlp(self.mlp_norm(y))
        h, sel = self.hsa(y, memory)
        if selections is not None:
            selections.append(sel)
        if self.cfg.residual == "bypass":    # retrieved content reaches x only through the MLP
            return y + self.mlp(self.mlp_norm(y + h))
        z = y + h                            # sequential
        return z + self.mlp(self.mlp_norm(z))


class HSAModel(nn.Module):
    """The whole model; state_dict names are MODEL.md's checkpoint tensor names."""

    def __init__(self, cfg: HSAConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.lower = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_lower_layers))
        if cfg.attention == "hsa":
            self.encoder = ChunkEncoder(cfg)
        self.upper = nn.ModuleList(DecoderLayer(cfg, with_hsa=cfg.is_hsa_layer(j))
                                   for j in range(cfg.n_upper_layers))
        self.norm = RMSNorm(cfg.d_model)
        if not cfg.tie_embeddings:
            self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """normal(0, 0.02); every o_proj/down_proj normal(0, 0.02/sqrt(2(LL+LU)));
        biases 0; norm gains 1."""
        cfg = self.cfg
        out_std = 0.02 / math.sqrt(2 * (cfg.n_lower_layers + cfg.n_upper_layers))
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith(".bias"):
                p.zero_()
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                p.normal_(0.0, out_std)
            else:  # every other matrix and encoder.cls
                p.normal_(0.0, 0.02)

    def forward(self, tokens: torch.Tensor, targets=None, loss_mask=None):
        """tokens (B,T) int -> (logits (B,T,V), loss or None, hidden dict).

        hidden: "lower.{l}", "middle" (H), "upper.{l}" (B,T,C); "landmarks" (B,NC,NKV,DR),
        "keys"/"values" (B,NC,S,NKV,HS); "selections.upper.{l}" (Selection) per HSA layer.
        """
        cfg = self.cfg
        B, T = tokens.shape
        window = None if cfg.attention == "full" else cfg.window
        cos, sin = rope_cos_sin(T, cfg.head_dim, cfg.rope_theta, tokens.device)
        hidden: dict = {}
        x = self.embed(tokens.long())
        for l, layer in enumerate(self.lower):
            x = layer(x, cos, sin, window)
            hidden[f"lower.{l}"] = x
        hidden["middle"] = x
        memory = None
        if cfg.attention == "hsa":
            memory = self.encoder(x)
            hidden.update(landmarks=memory.landmarks, keys=memory.keys, values=memory.values)
        for l, layer in enumerate(self.upper):
            sels: list = []
            x = layer(x, cos, sin, window, memory=memory, selections=sels)
            hidden[f"upper.{l}"] = x
            if sels:
                hidden[f"selections.upper.{l}"] = sels[0]
        x = self.norm(x)
        logits = x @ (self.embed.weight if cfg.tie_embeddings else self.lm_head.weight).T
        loss = None
        if targets is not None:
            ce = F.cross_entropy(logits.reshape(-1, cfg.vocab_size), targets.reshape(-1).long(),
                                 reduction="none")
            if loss_mask is None:
                loss = ce.mean()
            else:
                m = loss_mask.reshape(-1).to(ce.dtype)
                loss = (ce * m).sum() / m.sum()
        return logits, loss, hidden


# MARK: - Training step (MODEL-NOTES "Training step")


class AdamW:
    """torch.optim.AdamW arithmetic, written out: decay 2-D params only, missing grads = 0."""

    def __init__(self, model: nn.Module, lr=1e-3, betas=(0.9, 0.95), eps=1e-8,
                 weight_decay=0.1, grad_clip=1.0):
        self.params = [p for p in model.parameters()]
        self.lr, self.betas, self.eps, self.wd, self.clip = lr, betas, eps, weight_decay, grad_clip
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    @torch.no_grad()
    def step(self) -> float:
        """Clips the global grad norm to `clip` and updates; returns the pre-clip norm."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).float()
        scale = min(1.0, self.clip / (norm.item() + 1e-6))
        self.t += 1
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            g = g * scale
            if p.dim() == 2:
                p.mul_(1 - self.lr * self.wd)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (v.sqrt() / math.sqrt(bc2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / bc1)
        return norm.item()


# MARK: - Self-checks


def naive_hsa(layer: HierarchicalSparseAttention, y: torch.Tensor, memory: ChunkMemory):
    """Loop-per-token HSA straight from the spec text, to check the vectorised one."""
    cfg = layer.cfg
    B, T, C = y.shape
    NH, NKV, G, HS, S, K = (cfg.n_heads, cfg.n_kv_heads, cfg.group_size, cfg.head_dim,
                            cfg.chunk_size, cfg.top_k)
    NC = memory.landmarks.shape[1]
    u = layer.norm(y)
    qa = layer.q_proj(u).view(B, T, NH, HS)
    qs = (layer.q_slc_proj(u).view(B, T, NKV, cfg.dr) if cfg.separate_retrieval_query
          else qa.view(B, T, NKV, G, HS).mean(3))
    out = torch.zeros(B, T, NH, HS)
    for b in range(B):
        for t in range(T):
            c = t // S
            src = c * S - 1 if cfg.retrieval == "per_chunk" else t
            for g in range(NKV):
                elig = list(range(min(c, NC)))
                if not elig:
                    continue
                s = {i: float(qs[b, src, g] @ memory.landmarks[b, i, g]) / math.sqrt(cfg.dr)
                     for i in elig}
                chosen = sorted(elig, key=lambda i: (-s[i], i))[:K]
                chosen.sort(reverse=True)                  # recency order
                sv = torch.tensor([s[i] for i in chosen])
                if cfg.fusion == "stick_breaking":
                    sig = torch.sigmoid(sv)
                    w = [sig[k] * torch.prod(1 - sig[:k]) for k in range(len(chosen))]
                elif cfg.fusion == "softmax":
                    w = list(sv.softmax(0))
                for j in range(G):
                    h = g * G + j
                    q = qa[b, t, h]
                    if cfg.qk_norm:
                        q = layer.q_norm(q)
                    ks = torch.stack([memory.keys[b, i, :, g] for i in chosen])  # (k, S, HS)
                    vs = torch.stack([memory.values[b, i, :, g] for i in chosen])
                    if cfg.qk_norm:
                        ks = layer.k_norm(ks)
                    lg = (ks @ q) / math.sqrt(HS)                               # (k, S)
                    if cfg.fusion == "joint":
                        p = lg.flatten().softmax(0).view_as(lg)
                        out[b, t, h] = (p[..., None] * vs).sum((0, 1))
                    else:
                        o = (lg.softmax(-1)[..., None] * vs).sum(1)             # (k, HS)
                        out[b, t, h] = sum(w[k] * o[k] for k in range(len(chosen)))
    return layer.o_proj(out.view(B, T, NH * HS))


def _self_check() -> None:
    torch.manual_seed(0)
    # blocked SWA equals dense masked attention
    q, k, v = (torch.randn(2, 3, 37, 8) for _ in range(3))
    for W in (1, 5, 16, 40):
        t = torch.arange(37)
        mask = (t[None, :] <= t[:, None]) & (t[None, :] > t[:, None] - W)
        ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        assert torch.allclose(sliding_window_attention(q, k, v, W), ref, atol=1e-5), W
    print("ok: blocked SWA == dense banded attention")

    # vectorised HSA equals the naive loop, for every fusion / retrieval / query mode
    for fusion in FUSIONS:
        for retrieval in RETRIEVALS:
            for sep in (True, False):
                cfg = HSAConfig.preset("tiny", fusion=fusion, retrieval=retrieval,
                                       separate_retrieval_query=sep,
                                       retrieval_dim=None if sep else 16, n_heads=4,
                                       n_kv_heads=2, head_dim=8, top_k=3)
                model = HSAModel(cfg)
                layer = model.upper[0].hsa
                y = torch.randn(2, 43, cfg.d_model)
                memory = model.encoder(torch.randn(2, 43, cfg.d_model))
                with torch.no_grad():
                    fast, _ = layer(y, memory)
                    slow = naive_hsa(layer, y, memory)
                err = (fast - slow).abs().max().item()
                assert err < 1e-5, (fusion, retrieval, sep, err)
    print("ok: vectorised HSA == per-token loop (all fusions, retrievals, query modes)")

    # config validation names the field
    for bad, fieldname in ((dict(encoder_layers=0), "encoder_layers"),
                           (dict(fusion="max"), "fusion"),
                           (dict(separate_retrieval_query=False), "separate_retrieval_query")):
        try:
            HSAConfig.preset("tiny", **bad)
            raise AssertionError(f"accepted {bad}")
        except ValueError as e:
            assert fieldname in str(e), e
    try:
        HSAConfig.from_dict({"d_model": 32, "colour": "red"})
        raise AssertionError("accepted an unknown field")
    except ValueError as e:
        assert "colour" in str(e)
    print("ok: config validation")

    # training sanity: loss falls on repeated random text
    torch.manual_seed(0)
    cfg = HSAConfig.preset("tiny")
    model = HSAModel(cfg)
    pattern = torch.randint(0, 256, (1, 40))
    seq = pattern.repeat(1, 8)[:, :257]
    x, y = seq[:, :-1], seq[:, 1:]
    opt = AdamW(model, lr=3e-3)
    losses = []
    for _ in range(50):
        model.zero_grad()
        _, loss, _ = model(x, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    print(f"ok: tiny train 50 steps on repeated random text: loss {losses[0]:.3f} -> "
          f"{losses[-1]:.3f} (ln V = {math.log(cfg.vocab_size):.3f})")
    assert losses[-1] < 0.5 * losses[0], losses


if __name__ == "__main__":
    _self_check()
