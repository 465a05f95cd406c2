"""Independent PyTorch references of the feature-level losses (ILA, FIA, NAA, ILPD), written from the papers.

Registers LOSSES entries in reference_updates.py (see its header). Each loss object has
    prepare(x0, y, t, rngs, ctx)   the per-attack state at the clean images, consuming the images'
                                   streams as the attack does before its start; ctx.traced(name)
                                   is the array Java traced (its prepared state, as extra state of
                                   step 0) or None. Returns {name: (own, java or None)} for the
                                   report (compared by relative L2) and may set ctx.agree[name]
                                   (an element agreement, e.g. ILA's reference attack result).
    loss(inp, y, t, n)             the loss (ascended, summed over rows) of model inputs inp, row r
                                   being image r % n (y, t tiled alike).
    begin_step(s, x0, rngs, ctx)   optional: the loss's per-step state, at the start of step s
                                   before the step's other draws; returns {name: (own, java)} as
                                   prepare (ctx.traced_step(s, name, like) reads what Java traced).
The models are the dump's members (reference_attack.Member) exported with taps: their TorchScript
returns (logits, tap_1, ...) in the card's order; tap gradients are taken here with
torch.autograd.grad with respect to the returned tap tensor itself (the Java side feeds a leaf
through the exporter's from_tap_<k> method instead: two independent routes to the same number).

  ila(tap, reference, reference_steps)   Huang et al., ICCV 2019, ILAP. A reference attack runs
        first on the clean images (zero start, MI-FGSM with decay 1 or I-FGSM, untargeted CE,
        the attack's eps and step, no transforms); u_k = (F_k(x_ref) - F_k(x)) / ||.|| per
        image; L = sum_k s_k sum_i <F_k(x'_i) - F_k(x_i), u_k,i>. Teacher forcing: the
        direction is built from Java's x_ref (its own run is compared element by element).
  fia(tap, drop, copies, objective)      Wang et al., ICCV 2021. For copy n, image i: one float
        per element from image i's stream (copies in order, images in order within a copy); an
        element is dropped where the float < drop. D_k = sum_n dS/dF_k (x * M_n), L2-normalised
        per image; L = -sum_k s_k sum D_k * F_k(x'). S = softmax probability (prob) or logit of
        the true class.
  ilpd(tap, gamma, sigma, untargeted, targeted)   Li et al., NeurIPS 2023. At the start of every
        step (begin_step, before the step's other draws): n = sigma * N(0,1), one nextGaussian per
        element from each image's stream (java.util.Random's polar method, reference_ext_ssa), and
        the reference activation F_k(x + n) (no graph). Every forward then runs the eager module
        (rebuilt from the card's source: the user's file, constructor and state dict) with a
        forward hook on the tap returning gamma * F_k(x') + (1 - gamma) * F_k(x + n), as the
        paper's code does; L = wu CE(sum_k s_k z_k, y) - wt CE(., t). Java carries the decayed
        activation through the exporter's from_tap_<k> method instead. Teacher forcing: the noise
        is Java's where traced (its own draw is compared element by element).
  naa(tap, n, gamma, objective)          Zhang et al., CVPR 2022. IA_k = mean over m = 1..n of
        dS/dF_k at (m/n) x (black baseline); A = (F_k(x') - F_k(0)) * IA_k;
        WA = sum relu(A) - gamma sum relu(-A); L = -sum_k s_k WA_k.
"""

import numpy as np
import torch
import torch.nn.functional as F

import reference_updates as ru
from reference_attack import cross_entropy


def _outputs(m, x01):
    if list(x01.shape[-2:]) != m.input_size:
        x01 = F.interpolate(x01, size=m.input_size, mode="bilinear", align_corners=False)
    out = m.model((x01 - m.mean) / m.std)
    if not isinstance(out, tuple):
        raise ValueError(f"model {m.path} returns no taps")
    return out


def _tap_index(m, tap):
    names = [t["name"] for t in m.card.get("taps", [])]
    return 1 + names.index(tap)


def _logits(m, out):
    return out[0][:, m.offset:m.offset + m.classes]


def _shares(ens):
    total = sum(m.weight for m in ens.members)
    return [m.weight / total for m in ens.members]


def _score(z, y, objective):
    s = torch.softmax(z, 1) if objective == "prob" else z
    return s.gather(1, y[:, None]).sum()


def _taps(ens, tap, x):
    with torch.no_grad():
        return [_outputs(m, x)[_tap_index(m, tap)] for m in ens.members]


def _tap_grads(ens, tap, x, y, objective):
    out = []
    for m in ens.members:
        xs = x.detach().clone().requires_grad_(True)
        o = _outputs(m, xs)
        f = o[_tap_index(m, tap)]
        (g,) = torch.autograd.grad(_score(_logits(m, o), y, objective), f)
        out.append(g)
    return out


def _unit(a):
    norm = a.flatten(1).norm(dim=1).view(-1, *([1] * (a.dim() - 1)))
    return torch.where(norm == 0, torch.zeros_like(a), a / torch.where(norm == 0, torch.ones_like(norm), norm))


def _rows(a, rows):
    return a[torch.arange(rows) % a.shape[0]]


class _Feature:
    def __init__(self, meta, p):
        self.tap = p["tap"]
        self.ens = None
        self.state = {}


class ILA(_Feature):
    def __init__(self, meta, p):
        super().__init__(meta, p)
        self.reference = p.get("reference", "mi")
        self.steps = int(p.get("reference_steps", 10))
        self.eps = meta["epsPixels"] / 255.0
        self.alpha = meta["stepSizePixels"] / 255.0

    def _reference_attack(self, x0, y):
        """MI-FGSM (Dong et al. 2018; decay 1) or I-FGSM from x0, untargeted CE."""
        x, m = x0.clone(), torch.zeros_like(x0)
        for _ in range(self.steps):
            xs = x.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(cross_entropy(self.ens.logits(xs), y), xs)
            if self.reference == "mi":
                m = m + g / g.abs().flatten(1).mean(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
                d = torch.sign(m)
            else:
                d = torch.sign(g)
            x = torch.minimum(torch.maximum(x + self.alpha * d, x0 - self.eps), x0 + self.eps).clamp(0.0, 1.0)
        return x

    def prepare(self, x0, y, t, rngs, ctx):
        self.ens = ctx.ens
        own = self._reference_attack(x0, y)
        java = ctx.traced("ila_reference")
        x_ref = own if java is None else java
        if java is not None:
            ctx.agree["ila_reference_x"] = float(((own - java).abs() < 1e-6).float().mean())
        clean, adv = _taps(self.ens, self.tap, x0), _taps(self.ens, self.tap, x_ref)
        report = {}
        for k in range(len(clean)):
            self.state[f"ila_clean_{k}"] = clean[k]
            self.state[f"ila_direction_{k}"] = _unit(adv[k] - clean[k])
        for name, v in self.state.items():
            report[name] = (v, ctx.traced(name, v))
        return report

    def loss(self, inp, y, t, n):
        total = None
        for k, (m, s) in enumerate(zip(self.ens.members, _shares(self.ens))):
            f = _outputs(m, inp)[_tap_index(m, self.tap)]
            term = s * ((f - _rows(self.state[f"ila_clean_{k}"], inp.shape[0]))
                        * _rows(self.state[f"ila_direction_{k}"], inp.shape[0])).sum()
            total = term if total is None else total + term
        return total


class FIA(_Feature):
    def __init__(self, meta, p):
        super().__init__(meta, p)
        self.drop = np.float32(float(p.get("drop", 0.3)))
        self.copies = int(p.get("copies", 30))
        self.objective = p.get("objective", "prob")

    def prepare(self, x0, y, t, rngs, ctx):
        self.ens = ctx.ens
        n, per = x0.shape[0], x0[0].numel()
        u = ru.uniform(rngs, self.copies * n, per, 0.0, 1.0)
        keep = (u.numpy() >= self.drop).astype(np.float32)
        xs = x0.repeat(self.copies, 1, 1, 1) * torch.from_numpy(keep).reshape(self.copies * n, *x0.shape[1:])
        grads = _tap_grads(self.ens, self.tap, xs, y.repeat(self.copies), self.objective)
        report = {}
        for k, g in enumerate(grads):
            agg = g.reshape(self.copies, n, *g.shape[1:]).sum(0)
            self.state[f"fia_weights_{k}"] = _unit(agg)
        for name, v in self.state.items():
            report[name] = (v, ctx.traced(name, v))
        return report

    def loss(self, inp, y, t, n):
        total = None
        for k, (m, s) in enumerate(zip(self.ens.members, _shares(self.ens))):
            f = _outputs(m, inp)[_tap_index(m, self.tap)]
            term = -s * (f * _rows(self.state[f"fia_weights_{k}"], inp.shape[0])).sum()
            total = term if total is None else total + term
        return total


class NAA(_Feature):
    def __init__(self, meta, p):
        super().__init__(meta, p)
        self.n = int(p.get("n", 30))
        self.gamma = float(p.get("gamma", 1.0))
        self.objective = p.get("objective", "prob")

    def prepare(self, x0, y, t, rngs, ctx):
        self.ens = ctx.ens
        images = x0.shape[0]
        path = torch.cat([x0 * (m / self.n) for m in range(1, self.n + 1)], 0)
        grads = _tap_grads(self.ens, self.tap, path, y.repeat(self.n), self.objective)
        base = _taps(self.ens, self.tap, torch.zeros_like(x0))
        report = {}
        for k, g in enumerate(grads):
            self.state[f"naa_gradient_{k}"] = g.reshape(self.n, images, *g.shape[1:]).sum(0) / self.n
            self.state[f"naa_baseline_{k}"] = base[k]
        for name, v in self.state.items():
            report[name] = (v, ctx.traced(name, v))
        return report

    def loss(self, inp, y, t, n):
        total = None
        for k, (m, s) in enumerate(zip(self.ens.members, _shares(self.ens))):
            f = _outputs(m, inp)[_tap_index(m, self.tap)]
            a = (f - _rows(self.state[f"naa_baseline_{k}"], inp.shape[0])) * _rows(self.state[f"naa_gradient_{k}"],
                                                                                 inp.shape[0])
            wa = torch.relu(a).sum() - self.gamma * torch.relu(-a).sum()
            term = -s * wa
            total = term if total is None else total + term
        return total


_EAGER = {}


def _eager(m):
    """The member's eager module, rebuilt from its card's source: a --source python export (file,
    constructor, state dict) or a randomly initialised torchvision one (architecture, seed)."""
    import importlib.util
    import re
    if m.path not in _EAGER:
        source = m.card["source"]
        got = re.match(r"file (.+?) \(sha256 [0-9a-f]+\) loaded strictly into (.+) of (.+?) \(sha256 [0-9a-f]+\)$",
                       source)
        tv = re.match(r"random initialisation \(torchvision \S+ (\w+), torch.manual_seed\((\d+)\)\)$", source)
        if got is not None:
            weights, ctor, module = got.groups()
            spec = importlib.util.spec_from_file_location(f"ilpd_user_{len(_EAGER)}", module)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            net = eval(ctor, vars(mod))
            sd = torch.load(weights, map_location="cpu")
            net.load_state_dict(sd.get("state_dict", sd) if isinstance(sd, dict) else sd, strict=True)
        elif tv is not None:
            import torchvision
            torch.manual_seed(int(tv.group(2)))
            net = torchvision.models.get_model(tv.group(1), weights=None)
        else:
            raise ValueError(f"{m.card_path}: no eager rebuild for source {source}")
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        _EAGER[m.path] = net
    return _EAGER[m.path]


class ILPD(_Feature):
    def __init__(self, meta, p):
        super().__init__(meta, p)
        self.gamma = float(p.get("gamma", 0.1))
        self.sigma = float(p.get("sigma", 0.05))
        self.wu = float(p.get("untargeted", 1))
        self.wt = float(p.get("targeted", 0))
        self.refs = None

    def prepare(self, x0, y, t, rngs, ctx):
        self.ens = ctx.ens
        return {}

    def begin_step(self, s, x0, rngs, ctx):
        from reference_ext_ssa import next_gaussian
        n, per = x0.shape[0], x0[0].numel()
        std = float(np.float32(self.sigma))
        own = torch.from_numpy(np.array([[next_gaussian(rngs[i]) * std for _ in range(per)] for i in range(n)],
                                        dtype=np.float64).astype(np.float32)).reshape(x0.shape)
        java = ctx.traced_step(s, "ilpd_noise", x0)
        if java is not None:
            ctx.agree[f"ilpd_noise_step{s}"] = float(((own - java).abs() == 0).float().mean())
        noise = own if java is None else java
        self.refs = _taps(self.ens, self.tap, x0 + noise)
        report = {}
        for k, r in enumerate(self.refs):
            report[f"ilpd_reference_{k}_step{s}"] = (r, ctx.traced_step(s, f"ilpd_reference_{k}", r))
        return report

    def loss(self, inp, y, t, n):
        fused = None
        for k, (m, s) in enumerate(zip(self.ens.members, _shares(self.ens))):
            net = _eager(m)
            ref = _rows(self.refs[k], inp.shape[0])
            g = self.gamma
            hook = net.get_submodule(self.tap).register_forward_hook(lambda mod, i, o: g * o + (1 - g) * ref)
            try:
                x01 = inp
                if list(x01.shape[-2:]) != m.input_size:
                    x01 = F.interpolate(x01, size=m.input_size, mode="bilinear", align_corners=False)
                out = net((x01 - m.mean) / m.std)
            finally:
                hook.remove()
            z = (out[0] if isinstance(out, tuple) else out)[:, m.offset:m.offset + m.classes] * s
            fused = z if fused is None else fused + z
        total = None
        if self.wu != 0:
            total = self.wu * cross_entropy(fused, y)
        if self.wt != 0:
            term = -self.wt * cross_entropy(fused, t)
            total = term if total is None else total + term
        return total


ru.LOSSES["ila"] = ILA
ru.LOSSES["ilpd"] = ILPD
ru.LOSSES["fia"] = FIA
ru.LOSSES["naa"] = NAA
