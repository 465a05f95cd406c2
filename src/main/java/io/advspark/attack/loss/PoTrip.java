package io.advspark.attack.loss;

import ai.djl.ndarray.NDArray;
import io.advspark.model.Autograd;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Po+Trip (Li et al., "Towards Transferable Targeted Attack", CVPR 2020), targeted. Per row, with
 * logits z, true label y and target t:
 *
 * <pre>
 *   u    = z / ||z||_1                      v = (1 - xi) onehot(t),  xi = 1e-5
 *   P    = acosh(1 + 2 ||u - v||^2 / ((1 - ||u||^2)(1 - ||v||^2)))      (Poincare distance)
 *   Trip = max(D(z, t) - D(z, y) + gamma, 0),  D(z, k) = 1 - |z_k| / ||z||_2
 *          (cosine distance to onehot(k))
 *   L    = -sum_rows (P + lambda Trip)                                   (ascended)
 * </pre>
 *
 * <p>Conventions of the paper's TensorFlow implementation (a "Po-Attack" script over TF-slim
 * models): v is the target one-hot clipped as {@code clip(onehot - 0.00001, 0, 1)}; the cosine
 * takes the absolute value of the dot product; the triplet term is per image,
 * {@code clip(Cos(y) - Cos(t) + 0.007, 0, 2.1)} (the upper clip never binds: |cos| &lt;= 1);
 * {@code loss_po} is a batch mean and {@code loss_cos} a per-image vector, so the gradient of
 * {@code loss_po + 0.01 loss_cos} (tf.gradients sums a vector) is that of
 * {@code sum_rows (P + 0.01 Trip)}, the sum here. PyTorch ports (TransferAttack's POTRIP, the
 * Targeted-Transfer evaluation) instead average the cosines over the batch before the clip and
 * swap the triplet's two terms; we follow the paper and the TF code. acosh is evaluated as
 * {@code log(1 + theta + sqrt(theta (theta + 2)))} (DJL's PyTorch engine has no acosh).
 *
 * <p>Published defaults: lambda 0.01, margin gamma 0.007 (the TF code, which runs it with
 * momentum 1.0, DI p 0.7 and a 5 x 5 TI kernel for 20 iterations at eps 16). Spec
 * {@code potrip(lambda=0.01, margin=0.007)}.
 */
public record PoTrip(double lambda, double margin) implements Loss {
    public static final Entry<PoTrip> DECLARATION = Entry.of(Kind.LOSS, "potrip", PoTrip.class)
            .summary("Targeted: Poincare distance of the L1-normalised logits to the clipped target one-hot plus lambda x a cosine triplet term, per image (the TF code's conventions)")
            .paper("Li et al., \"Towards Transferable Targeted Attack\", CVPR 2020")
            .param(Param.dbl("lambda", 0.01, 0, 1e6,
                    "weight of the triplet term"))
            .param(Param.dbl("margin", 0.007, 0, 2,
                    "triplet margin gamma"))
            .build(s -> new PoTrip(s.dbl("lambda"), s.dbl("margin")));

    /** The one-hot clip xi of the official code. */
    static final float XI = 1e-5f;

    @Override
    public NDArray of(NDArray logits, int[] labels0, int[] targets0) {
        NDArray tHot = Logit.oneHot(logits, targets0, 1f);
        NDArray yHot = Logit.oneHot(logits, labels0, 1f);
        NDArray u = logits.div(logits.abs().sum(new int[] {1}, true));
        NDArray v = Logit.oneHot(logits, targets0, 1f - XI);
        NDArray uu = u.square().sum(new int[] {1});
        NDArray vv = v.square().sum(new int[] {1});
        // Numbers that the backward reads go in as arrays libtorch owns: DJL's mul/maximum(Number)
        // free theirs before the backward runs (Autograd#constant).
        ai.djl.ndarray.NDManager m = logits.getManager();
        NDArray theta = u.sub(v).square().sum(new int[] {1}).mul(Autograd.scalar(m, 2f))
                .div(uu.neg().add(1f).mul(vv.neg().add(1f)));
        NDArray poincare = theta.add(1f).add(theta.mul(theta.add(2f)).sqrt()).log();
        NDArray norm = logits.square().sum(new int[] {1}).sqrt();
        NDArray cosT = logits.mul(tHot).sum(new int[] {1}).abs().div(norm);
        NDArray cosY = logits.mul(yHot).sum(new int[] {1}).abs().div(norm);
        // D(t) - D(y) = (1 - cos_t) - (1 - cos_y) = cos_y - cos_t.
        NDArray trip = cosY.sub(cosT).add((float) margin).maximum(Autograd.scalar(m, 0f));
        return poincare.add(trip.mul(Autograd.scalar(m, (float) lambda))).sum().neg();
    }
}
