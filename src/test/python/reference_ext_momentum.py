"""Reference plug-in for reference_updates.py: the sampling momentum rules EMI and MEF.

Written from the papers' update equations (pixel space [0,1], eps/alpha = pixels/255; mean|.| is
the per-image mean absolute value, floored at 1e-12):

  emi(decay=mu, n=N, eta)          Wang et al., "Boosting Adversarial Transferability through
                                   Enhanced Momentum", BMVC 2021 (linear sampling):
      c_i = eta (2 i / (N - 1) - 1)           (the linear grid on [-eta, eta]; c = 0 exactly at
                                               the middle of an odd N, which linspace can miss)
      x_i = x + c_i alpha gbar_prev / mean|gbar_prev|   (gbar_prev absent at the first step: x_i = x)
      gbar = (1/N) sum_i grad(x_i) ;  m+ = mu m + gbar / mean|gbar| ;  x+ = clip(x + alpha sign(m+))
      extra state: "average" = gbar
      order of the gradients: the step's own gradient at x (the point) stands for c_i == 0; the
      other points follow in increasing c_i.

  mef(decay=mu, inner=mu_in, n=N, gamma, xi)
                                   Qiu et al., "Boosting Adversarial Transferability with
                                   Low-Cost Optimization via Maximin Expected Flatness",
                                   arXiv 2405.16181 (settings of the authors' code):
      u_k ~ U(-gamma eps, gamma eps)           (all N drawn first, point by point, then the N
                                                gradients in order)
      x_k = x + u_k + xi eps p_k               (p_k absent at the first step: 0)
      p_k+ = g_k / mean|g_k| - mu_in p_k ;  G = (1/N) sum_k g_k
      m+ = mu m + G / mean|G| ;  x+ = clip(x + alpha sign(m+))
      extra state: "inner<k>" = p_k
"""

import sys

import numpy as np
import torch


def _host():
    # reference_updates.py runs as __main__; a plain import would load a second copy of it whose
    # registries the runner never reads.
    main = sys.modules.get("__main__")
    if main is not None and hasattr(main, "RULES") and hasattr(main, "uniform"):
        return main
    import reference_updates
    return reference_updates


HOST = _host()


def _l1(a):
    return a.abs().flatten(1).mean(1).clamp_min(1e-12).view(-1, 1, 1, 1)


def _project(x, x0, eps):
    return torch.minimum(torch.maximum(x, x0 - eps), x0 + eps).clamp(0.0, 1.0)


class Emi:
    def __init__(self, meta, p):
        self.mu = float(p.get("decay", 1.0))
        self.n = int(p.get("n", 11))
        self.eta = float(p.get("eta", 7.0))
        self.eps = meta["epsPixels"] / 255.0
        self.alpha = meta["stepSizePixels"] / 255.0
        self.extras = ["average"]

    def point(self, x, m, extras):
        return x

    def step(self, x, m, v, g, x0, grad_at, rngs, extras):
        coeffs = [self.eta * (2.0 * i / (self.n - 1) - 1.0) for i in range(self.n)]
        alpha32 = float(np.float32(self.alpha))  # the engine's step size is a float
        prev = extras.get("average")
        direction = None if prev is None else prev / _l1(prev)
        grads = {}
        for i, c in enumerate(coeffs):
            if c == 0.0:
                grads[i] = g
        for i, c in enumerate(coeffs):
            if c != 0.0:
                grads[i] = grad_at(x if direction is None else x + float(c * alpha32) * direction)
        total = grads[0]
        for i in range(1, self.n):
            total = total + grads[i]
        gbar = total / self.n
        m_next = self.mu * m + gbar / _l1(gbar)
        x_next = _project(x + self.alpha * torch.sign(m_next), x0, self.eps)
        return x_next, m_next, None, {"average": gbar}


class Mef:
    def __init__(self, meta, p):
        self.mu = float(p.get("decay", 0.5))
        self.mu_in = float(p.get("inner", 0.9))
        self.n = int(p.get("n", 20))
        self.gamma = float(p.get("gamma", 2.0))
        self.xi = float(p.get("xi", 0.15))
        self.eps = meta["epsPixels"] / 255.0
        self.alpha = meta["stepSizePixels"] / 255.0
        self.extras = [f"inner{k}" for k in range(self.n)]

    def point(self, x, m, extras):
        return x

    def step(self, x, m, v, g, x0, grad_at, rngs, extras):
        eps32 = np.float32(self.eps)
        radius = np.float32(self.gamma * eps32)
        shift = float(np.float32(self.xi * eps32))
        rows, per = x.shape[0], x[0].numel()
        noises = [HOST.uniform(rngs, rows, per, -radius, radius).reshape(x.shape) for _ in range(self.n)]
        pts = []
        for k in range(self.n):
            pk = extras.get(f"inner{k}")
            xk = x + noises[k]
            pts.append(xk if pk is None else xk + shift * pk)
        gs = [grad_at(xk) for xk in pts]
        new_inner = {}
        for k, gk in enumerate(gs):
            pk = extras.get(f"inner{k}")
            new_inner[f"inner{k}"] = gk / _l1(gk) - (0.0 if pk is None else self.mu_in * pk)
        total = gs[0]
        for gk in gs[1:]:
            total = total + gk
        big_g = total / self.n
        m_next = self.mu * m + big_g / _l1(big_g)
        x_next = _project(x + self.alpha * torch.sign(m_next), x0, self.eps)
        return x_next, m_next, None, new_inner


HOST.RULES["emi"] = Emi
HOST.RULES["mef"] = Mef
