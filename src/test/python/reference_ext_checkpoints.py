"""Reference of the checkpoint-ensemble augmentation, a plug-in of reference_updates.py (AUGMENTS).

checkpoints(per-step=k)   LGV (Gubri et al., ECCV 2022): the surrogate is a collection of
                          checkpoints of one SGD run, and each attack iteration uses models drawn
                          at random from it; MoreBayesian (Li et al., ICLR 2023) likewise samples
                          models per iteration. advspark's version, per image:
    at the start of step t, for image i (its own stream) and each checkpoint group G (meta
    "groups", in order) of n members: a partial Fisher-Yates shuffle of the positions 0..n-1,
    for j < k: s = j + nextInt(n - j), swap(j, s); image i uses the members at positions 0..k-1.
    The fused logits of row r (image i = r mod N) for the whole step:
        z[r] = sum_{models m outside groups} s_m z_m[r] + sum_G (s_G / k) sum_{m in G used by i} z_m[r]
    with s_m = w_m / sum w and s_G = sum_{m in G} s_m.
  Written as a 0/1 weight per (member, image) over every member's logits of the whole batch (each
  member sees every row here; the Java engine sends a member only the rows that drew it).
"""

import torch

import reference_updates as ru


class Checkpoints:
    def __init__(self, meta, params, ens):
        self.k = int(params.get("per-step", params.get("per_step", 1)))
        self.ens = ens
        self.groups = [list(g) for g in meta.get("groups", [])]
        if not self.groups:
            raise ValueError("checkpoints needs a checkpoint group (meta 'groups')")
        self.n = int(meta["shape"][0])
        total = sum(m.weight for m in ens.members)
        self.share = [m.weight / total for m in ens.members]
        self.use = None  # [members][images] 0/1, or None for a member outside the groups

    def begin_step(self, rngs):
        members = len(self.ens.members)
        use = [None] * members
        for g in self.groups:
            for m in g:
                use[m] = [0.0] * self.n
        for i in range(self.n):
            rng = rngs[i]
            for g in self.groups:
                pos = list(range(len(g)))
                for j in range(self.k):
                    s = j + rng.next_int(len(g) - j)
                    pos[j], pos[s] = pos[s], pos[j]
                for j in range(self.k):
                    use[g[pos[j]]][i] = 1.0
        self.use = use

    def _fuse(self, x01, member_logits, dtype):
        rows = x01.shape[0]
        z = None
        in_group = {m for g in self.groups for m in g}
        for m in range(len(self.ens.members)):
            if m in in_group:
                continue
            term = self.share[m] * member_logits(m, x01)
            z = term if z is None else z + term
        for g in self.groups:
            share_g = sum(self.share[m] for m in g)
            acc = None
            for m in g:
                w = torch.tensor([self.use[m][r % self.n] for r in range(rows)], dtype=dtype).reshape(-1, 1)
                term = w * member_logits(m, x01)
                acc = term if acc is None else acc + term
            term = (share_g / self.k) * acc
            z = term if z is None else z + term
        return z

    def logits(self, x01):
        return self._fuse(x01, lambda m, x: self.ens.members[m].logits(x), torch.float32)

    def logits64(self, x01):
        def one(m, x):
            member = self.ens.members[m]
            if not hasattr(member, "model64"):
                member.model64 = torch.jit.load(member.path, map_location="cpu").double().eval()
                for p in member.model64.parameters():
                    p.requires_grad_(False)
            if list(x.shape[-2:]) != member.input_size:
                x = torch.nn.functional.interpolate(x, size=member.input_size, mode="bilinear", align_corners=False)
            return member.model64((x - member.mean.double()) / member.std.double())[
                :, member.offset:member.offset + member.classes]
        return self._fuse(x01, one, torch.float64)


ru.AUGMENTS["checkpoints"] = Checkpoints
