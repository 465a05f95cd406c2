"""References of the sampling update rules PGN and GRA, a plug-in of reference_updates.py.

Written from the papers' algorithms, in pixel space [0,1] (eps = epsPixels / 255, alpha =
stepSizePixels / 255, clip = into [x0 - eps, x0 + eps] and [0, 1]); ||g||_1 is the per-image mean
absolute value, floored at 1e-12.

pgn(decay=mu, n=N, delta, zeta)   Ge et al., "Boosting Adversarial Transferability by Achieving
                                  Flat Local Maxima", NeurIPS 2023, Algorithm 1:
    for i < N:  x'_i = x_t + U(-zeta eps, zeta eps)
                g'_i = grad(x'_i)
                x*_i = x'_i - alpha g'_i / ||g'_i||_1
                g*_i = grad(x*_i)
    g_bar = mean_i [(1 - delta) g'_i + delta g*_i]
    m+ = mu m + g_bar / ||g_bar||_1 ;  x+ = clip(x_t + alpha sign(m+))
  (the look-ahead uses the attack's step alpha and the mean-|g| norm, as the authors' code does)

gra(decay=mu, n=N, beta, eta)     Zhu et al., "Boosting Adversarial Transferability via Gradient
                                  Relevance Attack", ICCV 2023:
    g      = grad(x_t)
    g_sam  = mean_i grad(x_t + U(-beta eps, beta eps)),  i < N
    s      = <g, g_sam> / (|g|_2 |g_sam|_2)   per image (denominator floored at 1e-30)
    g_w    = s g + (1 - s) g_sam
    m+     = mu m + g_w / ||g_w||_1
    M+     = M * (1 where sign(m+) == sign(m) else eta),   M_0 = 1 / eta
    x+     = clip(x_t + alpha M+ sign(m+))
  extra state "indicator" = M (piecewise constant in sign(m+): compared element by element).

Random draws: every neighbour's noise first (per neighbour, all rows, from each image's stream),
then the gradients of the points in order (each consuming the input transforms' draws); PGN does
the x' gradients, then the x* gradients.
"""

import numpy as np
import torch

import reference_updates as ru


def _l1(g):
    return g.abs().reshape(g.shape[0], -1).mean(dim=1).clamp_min(1e-12).reshape(-1, 1, 1, 1)


class _Sampling:
    extras = ()

    def __init__(self, meta, params):
        self.eps = meta["epsPixels"] / 255.0
        self.alpha = meta["stepSizePixels"] / 255.0
        self.mu = float(params.get("decay", 1.0))
        self.n = int(params.get("n", 20))

    def point(self, x, m, extras):
        return x

    def noises(self, x, radius, rngs):
        rows, per = x.shape[0], x[0].numel()
        r = np.float32(radius * np.float32(self.eps))
        return [ru.uniform(rngs, rows, per, -r, r).reshape(x.shape) for _ in range(self.n)]

    def clip(self, x, x0):
        return torch.minimum(torch.maximum(x, x0 - self.eps), x0 + self.eps).clamp(0.0, 1.0)


class PGN(_Sampling):
    def __init__(self, meta, params):
        super().__init__(meta, params)
        self.delta = float(params.get("delta", 0.5))
        self.zeta = float(params.get("zeta", 3.0))

    def step(self, x, m, v, g, x0, grad_at, rngs, extras):
        near = [x + r for r in self.noises(x, self.zeta, rngs)]
        g1 = [grad_at(p) for p in near]
        star = [p - self.alpha * gp / _l1(gp) for p, gp in zip(near, g1)]
        g2 = [grad_at(p) for p in star]
        g_bar = sum((1 - self.delta) * a + self.delta * b for a, b in zip(g1, g2)) / self.n
        m_next = self.mu * m + g_bar / _l1(g_bar)
        return self.clip(x + self.alpha * torch.sign(m_next), x0), m_next, None, {}


class GRA(_Sampling):
    extras = ("indicator",)
    discrete = ("indicator",)  # piecewise constant in sign(m): compared element by element

    def __init__(self, meta, params):
        super().__init__(meta, params)
        self.beta = float(params.get("beta", 3.5))
        self.eta = float(params.get("eta", 0.94))

    def step(self, x, m, v, g, x0, grad_at, rngs, extras):
        M = extras.get("indicator")
        if M is None:
            M = torch.full_like(x, float(np.float32(1.0 / self.eta)))
        g_sam = sum(grad_at(x + r) for r in self.noises(x, self.beta, rngs)) / self.n
        a, b = g.reshape(g.shape[0], -1), g_sam.reshape(g.shape[0], -1)
        cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1)).clamp_min(1e-30)
        s = cos.reshape(-1, 1, 1, 1)
        g_w = s * g + (1 - s) * g_sam
        m_next = self.mu * m + g_w / _l1(g_w)
        eta = torch.full_like(M, float(np.float32(self.eta)))
        M_next = M * torch.where(torch.sign(m_next) == torch.sign(m), torch.ones_like(M), eta)
        x_next = self.clip(x + self.alpha * (M_next * torch.sign(m_next)), x0)
        return x_next, m_next, None, {"indicator": M_next}


ru.RULES["pgn"] = PGN
ru.RULES["gra"] = GRA
