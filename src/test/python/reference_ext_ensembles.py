"""References of the ensemble strategies, a plug-in of reference_updates.py (ENSEMBLES).

Written from the papers' algorithms, in pixel space [0,1] (eps = epsPixels / 255, alpha =
stepSizePixels / 255, clip = into [x0 - eps, x0 + eps] and [0, 1]); ||g||_1 is the per-image mean
absolute value, floored at 1e-12. g_ens is the logit ensemble's gradient at the rule's point x_t
(given); g_k(p) is the gradient of member k's own loss (its logits alone, unweighted). The
returned gradient replaces g_ens in the update rule (mi: G+ = mu G + g / ||g||_1).

svre(m=M, inner_decay=mu_in, beta)   Xiong et al., "Stochastic Variance Reduced Ensemble
                                     Adversarial Attack for Boosting the Adversarial
                                     Transferability", CVPR 2022, Algorithm 1:
    M = 4 K when m = 0 (K surrogates)
    x~ = x_t ; G~ = 0
    for j < M:
        k_i   = nextInt(K) from image i's stream, for every image in order
        g_j   = g_{k_i}(x~) - g_{k_i}(x_t) + g_ens          (row i; each row through its member)
        G~    = mu_in G~ + g_j / ||g_j||_1
        x~    = clip(x~ + beta alpha sign(G~))
    return G~
  The member gradients at x_t are taken in one call (inputs built once); each inner gradient is
  one call.

cwa(r, beta, inner_decay=mu_in)      Chen et al., "Rethinking Model Ensemble in Transfer-based
                                     Adversarial Attacks", ICLR 2024, Algorithm 1 (MI-CWA):
    x^ = clip(x_t - r eps sign(g_ens))
    for k < K (member order):
        g  = g_k(x^)
        m^ = mu_in m^ + g / ||g||_2          (per image, L2 floored at 1e-12; m^ carried across steps,
                                              state "cwa_inner_momentum", 0 at the start)
        x^ = clip(x^ + beta m^)
    return x^ - x_t
  Java traces x^ before each member's step (cwa_x0, cwa_x1, ...); the inner gradients are taken at
  those points (teacher forcing, as for the outer iterate) and the reference's own x^ there must
  agree with them on 99.99 % of elements.

adaea(beta, threshold)               Chen et al., "An Adaptive Model Ensemble Adversarial Attack for
                                     Boosting Adversarial Transferability", ICCV 2023:
    g_k   = g_k(x_t) for every member (one call, inputs built once)
    a_k   = clip(x_t + alpha sign(g_k))
    L_jk  = member j's loss of image i at a_k, per image (the attack's loss of that row alone, no
            input transforms)
    w_k   = beta sum_{j != k} L_jk / max(L_jj, 1e-12) ;  lambda = softmax_k(w)      per image
    s     = mean over pairs j < k of <u_j, u_k>, u = g / max(||g||_2 over channels, 1e-12), per pixel
    B     = [s >= threshold]  (1 with a single member)
    return B * grad of the loss of sum_k lambda_k z_k at x_t
  Java traces B (adaea_filter) and a_k (adaea_adv0, ...); the reference applies Java's (teacher
  forcing: both are piecewise constant in the gradients) and its own must agree with them on
  99.99 % of elements.
"""

import numpy as np
import torch

import reference_updates as ru


def _l1(g):
    return g.abs().reshape(g.shape[0], -1).mean(dim=1).clamp_min(1e-12).reshape(-1, 1, 1, 1)


def _clip(x, x0, eps):
    return torch.minimum(torch.maximum(x, x0 - eps), x0 + eps).clamp(0.0, 1.0)


def member_head(member):
    return lambda inp: member.logits(inp)


def routed_head(members, which, n):
    """Logits of row r from member which[r % n] only."""
    def head(inp):
        rows = inp.shape[0]
        sel = torch.tensor([which[r % n] for r in range(rows)])
        z = None
        for k, mem in enumerate(members):
            if not (sel == k).any():
                continue
            zk = mem.logits(inp)
            z = zk if z is None else torch.where((sel == k)[:, None], zk, z)
        return z
    return head


class SVRE:
    extras = ()

    def __init__(self, meta, p):
        self.m = int(p.get("m", 0))
        self.mu_in = float(p.get("inner_decay", 1.0))
        self.beta = float(p.get("beta", 1.0))
        self.eps = meta["epsPixels"] / 255.0
        self.alpha = meta["stepSizePixels"] / 255.0

    def gradient(self, x, g_ens, x0, ctx, extras):
        members, n = ctx.members, ctx.n
        K = len(members)
        M = self.m if self.m > 0 else 4 * K
        at_x = ctx.grads_at(x, [member_head(mem) for mem in members])
        xt, G = x.clone(), None
        step = np.float32(self.beta * float(np.float32(self.alpha)))  # Java: (float) (beta * alpha01)
        for _ in range(M):
            which = [ctx.rngs[i].next_int(K) for i in range(n)]
            gk = ctx.grads_at(xt, [routed_head(members, which, n)])[0]
            anchor = torch.stack([at_x[which[i]][i] for i in range(n)])
            gj = (gk - anchor) + g_ens
            G = gj / _l1(gj) if G is None else self.mu_in * G + gj / _l1(gj)
            xt = _clip(xt + float(step) * torch.sign(G), x0, self.eps)
        return G, {}


class CWA:
    extras = ("cwa_inner_momentum",)

    def __init__(self, meta, p):
        self.r = float(p.get("r", 1.0 / 15))
        self.beta = float(p.get("beta", 250))
        self.mu_in = float(p.get("inner_decay", 1.0))
        self.eps = meta["epsPixels"] / 255.0

    def gradient(self, x, g_ens, x0, ctx, extras):
        m = extras.get("cwa_inner_momentum")
        if m is None:
            m = torch.zeros_like(x)
        n = x.shape[0]
        reverse = float(np.float32(self.r * float(np.float32(self.eps))))  # Java: (float) (r * eps01)
        xh = _clip(x - reverse * torch.sign(g_ens), x0, self.eps)
        for k, mem in enumerate(ctx.members):
            java_x = ctx.traced(f"cwa_x{k}")
            if java_x is not None:
                # Teacher forcing: a member's gradient is piecewise continuous (ReLU kinks), so the
                # inner chain continues from Java's inner iterate; where the two agree is recorded.
                self.inner_agree.append((java_x - xh).abs() < 1e-6)
                xh = java_x
            g = ctx.grads_at(xh, [member_head(mem)])[0]
            l2 = g.reshape(n, -1).norm(dim=1).clamp_min(1e-12).reshape(-1, 1, 1, 1)
            m = self.mu_in * m + g / l2
            xh = _clip(xh + float(np.float32(self.beta)) * m, x0, self.eps)
        return xh - x, {"cwa_inner_momentum": m}


class AdaEA:
    extras = ()

    def __init__(self, meta, p):
        self.beta = float(p.get("beta", 10))
        self.threshold = float(p.get("threshold", -0.3))
        self.eps = meta["epsPixels"] / 255.0
        self.alpha = meta["stepSizePixels"] / 255.0

    def gradient(self, x, g_ens, x0, ctx, extras):
        members, n = ctx.members, ctx.n
        K = len(members)
        g = ctx.grads_at(x, [member_head(mem) for mem in members])
        adv = [_clip(x + float(np.float32(self.alpha)) * torch.sign(gk), x0, self.eps) for gk in g]
        for k in range(K):
            # Teacher forcing: sign(g_k) flips where an element of g_k rounds across 0.
            ja = ctx.traced(f"adaea_adv{k}", adv[k])
            if ja is not None:
                self.inner_agree.append((ja - adv[k]).abs() < 1e-6)
                adv[k] = ja
        with torch.no_grad():
            # L[k][j][i]: member j's loss of image i at member k's example
            L = [[[float(ctx.loss(mem.logits(a[i:i + 1]), ctx.y[i:i + 1], ctx.t[i:i + 1])) for i in range(n)]
                  for mem in members] for a in adv]
        lam = torch.zeros(K, n)
        for i in range(n):
            w = torch.zeros(K)
            for k in range(K):
                acc = torch.tensor(0.0)
                for j in range(K):
                    if j != k:
                        acc = acc + torch.tensor(L[k][j][i]) / torch.tensor(max(L[j][j][i], np.float32(1e-12)))
                w[k] = np.float32(self.beta) * acc
            lam[:, i] = torch.softmax(w, dim=0)

        def weighted(inp):
            rows = inp.shape[0]
            z = None
            for k, mem in enumerate(members):
                col = torch.tensor([float(lam[k, r % n]) for r in range(rows)])[:, None]
                term = mem.logits(inp) * col
                z = term if z is None else z + term
            return z

        grad = ctx.grads_at(x, [weighted])[0]
        if K < 2:
            return grad, {}
        u = [gk / gk.norm(dim=1, keepdim=True).clamp_min(1e-12) for gk in g]
        s, pairs = None, 0
        for j in range(K):
            for k in range(j + 1, K):
                c = (u[j] * u[k]).sum(dim=1, keepdim=True)
                s = c if s is None else s + c
                pairs += 1
        B = (s / pairs >= np.float32(self.threshold)).float()
        jb = ctx.traced("adaea_filter", B)
        if jb is not None:
            # Teacher forcing: B is piecewise constant in the gradients (a pixel at the threshold
            # flips on rounding); where the two agree is recorded, and Java's is applied.
            self.inner_agree.append(jb == B)
            B = jb
        return grad * B, {}


ru.ENSEMBLES["svre"] = SVRE
ru.ENSEMBLES["cwa"] = CWA
ru.ENSEMBLES["adaea"] = AdaEA
