package io.advspark.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * Logit-level ensemble (Liu et al. 2017; Dong et al. 2018, eq. 6): {@code z = sum_k s_k z_k}
 * over the wrapped surrogates, where the shares {@code s_k = w_k / sum_j w_j} sum to 1 as
 * published: a configuration's weights are relative. Summing unnormalised logits (the rule before)
 * sharpens the ensemble's softmax by the number of members, which saturates the loss and, in
 * float32, can underflow the gradient to zero.
 */
public final class Ensemble implements AutoCloseable {
    private final List<Classifier> members;
    private final double[] shares;

    public Ensemble(List<Classifier> members) {
        if (members.isEmpty()) {
            throw new IllegalArgumentException("an ensemble needs at least one model");
        }
        this.members = List.copyOf(members);
        this.shares = shares(this.members.stream().mapToDouble(Classifier::weight).toArray());
        int c = members.get(0).card().datasetClasses();
        for (Classifier m : members) {
            if (m.card().datasetClasses() != c) {
                throw new IllegalArgumentException(
                        "ensemble members disagree on dataset_classes: " + members.get(0).card().name() + " has " + c
                                + ", " + m.card().name() + " has " + m.card().datasetClasses());
            }
        }
    }

    public static Ensemble load(List<ModelBundle> bundles) throws java.io.IOException {
        return load(bundles, ai.djl.Device.cpu());
    }

    /** Loads every bundle on {@code device}. */
    public static Ensemble load(List<ModelBundle> bundles, ai.djl.Device device) throws java.io.IOException {
        List<Classifier> loaded = new java.util.ArrayList<>();
        try {
            for (ModelBundle b : bundles) {
                loaded.add(Classifier.load(b, device));
            }
        } catch (java.io.IOException | RuntimeException e) {
            loaded.forEach(Classifier::close);
            throw e;
        }
        return new Ensemble(loaded);
    }

    public List<Classifier> members() {
        return members;
    }

    /** Member {@code i}'s share of the ensemble: its weight over the sum of the weights. */
    public double share(int i) {
        return shares[i];
    }

    /** Weights normalised to sum 1 (the effective weights a round records). */
    public static double[] shares(double[] weights) {
        double total = 0;
        for (double w : weights) {
            total += w;
        }
        double[] out = new double[weights.length];
        for (int i = 0; i < weights.length; i++) {
            out[i] = weights[i] / total;
        }
        return out;
    }

    public int datasetClasses() {
        return members.get(0).card().datasetClasses();
    }

    /**
     * Masks for the dropout sites of one member's forward (see {@link Classifier#logits(NDArray,
     * NDList)}), asked for every forward pass in member order.
     */
    @FunctionalInterface
    public interface MemberMasks {
        /**
         * @param index the member's position in the ensemble
         * @param member the member
         * @param rows rows of the batch about to go through it
         * @param manager where the masks should live (the forward's scratch)
         * @return one mask per site, or null for the member's plain forward
         */
        NDList of(int index, Classifier member, int rows, NDManager manager);
    }

    private NDArray memberLogits(int i, NDArray x, MemberMasks masks) {
        Classifier m = members.get(i);
        NDList mk = masks == null ? null : masks.of(i, m, (int) x.getShape().get(0), x.getManager());
        return m.logits(x, mk);
    }

    /** Share-weighted sum of the members' dataset logits, differentiable with respect to {@code x}. */
    public NDArray logits(NDArray x) {
        return logits(x, null);
    }

    /** As {@link #logits(NDArray)}, each member's dropout sites multiplied by its {@code masks}. */
    public NDArray logits(NDArray x, MemberMasks masks) {
        NDArray sum = null;
        for (int i = 0; i < members.size(); i++) {
            NDArray z = memberLogits(i, x, masks);
            if (shares[i] != 1.0) {
                // An array libtorch owns, not mul(Number), which frees the number before the
                // backward reads it (Autograd#constant).
                z = z.mul(Autograd.scalar(z.getManager(), (float) shares[i]));
            }
            sum = sum == null ? z : sum.add(z);
        }
        return sum;
    }

    /** Each member's dataset logits (unweighted), differentiable with respect to {@code x}. */
    public List<NDArray> memberLogits(NDArray x) {
        return memberLogits(x, null);
    }

    /** As {@link #memberLogits(NDArray)}, each member's dropout sites multiplied by its {@code masks}. */
    public List<NDArray> memberLogits(NDArray x, MemberMasks masks) {
        List<NDArray> out = new java.util.ArrayList<>(members.size());
        for (int i = 0; i < members.size(); i++) {
            out.add(memberLogits(i, x, masks));
        }
        return out;
    }

    /**
     * Log of the weighted average of the members' softmax probabilities (probability-level
     * ensemble; weights normalised to sum 1 here so the result is a log-distribution).
     */
    public NDArray logMeanProbabilities(NDArray x) {
        return logMeanProbabilities(x, null);
    }

    /** As {@link #logMeanProbabilities(NDArray)}, each member's dropout sites multiplied by its {@code masks}. */
    public NDArray logMeanProbabilities(NDArray x, MemberMasks masks) {
        // log sum_k s_k softmax(z_k) as a log-sum-exp of the members' log-softmaxes, not the log
        // of summed probabilities: once a probability rounds to 1 the latter's gradient is
        // rounding noise (the same cancellation CrossEntropy avoids).
        List<NDArray> logs = new java.util.ArrayList<>(members.size());
        for (int i = 0; i < members.size(); i++) {
            logs.add(memberLogits(i, x, masks).logSoftmax(1).add(Autograd.scalar(x.getManager(), (float) Math.log(shares[i]))));
        }
        if (logs.size() == 1) {
            return logs.get(0);
        }
        NDArray shift = null;
        for (NDArray l : logs) {
            NDArray c = l.stopGradient();
            shift = shift == null ? c : NDArrays.maximum(shift, c);
        }
        NDArray sum = null;
        for (NDArray l : logs) {
            NDArray e = l.sub(shift).exp();
            sum = sum == null ? e : sum.add(e);
        }
        return sum.log().add(shift);
    }

    /**
     * Top-1 predictions (0-based dataset labels) for pixels in [0,1], without a graph.
     *
     * @param pixels NCHW floats
     * @param shape {@code [N, 3, H, W]}
     * @param parent manager under which temporary tensors live (closed before returning)
     */
    public int[] predict(float[] pixels, long[] shape, ai.djl.ndarray.NDManager parent) {
        try (ai.djl.ndarray.NDManager m = parent.newSubManager()) {
            NDArray x = m.create(pixels, new ai.djl.ndarray.types.Shape(shape));
            return Autograd.noGrad(() -> {
                return argMaxRows(logits(x));
            });
        }
    }

    /** The column of each row's largest score, as 0-based labels. */
    public static int[] argMaxRows(NDArray scores) {
        long[] am = scores.argMax(1).toLongArray();
        int[] out = new int[am.length];
        for (int i = 0; i < am.length; i++) {
            out[i] = (int) am[i];
        }
        return out;
    }

    @Override
    public void close() {
        members.forEach(Classifier::close);
    }

    /**
     * One ensemble gradient of a batch of mid-grey images at the first member's input size, on
     * {@code device}: proves the device computes (the {@code devices} probe); fails if the gradient
     * is not finite. Call on a torch thread.
     */
    public void probeGradient(ai.djl.Device device, int batch) {
        var card = members().get(0).card();
        try (NDManager m = TorchRuntime.newManager(device)) {
            NDArray x = m.full(new ai.djl.ndarray.types.Shape(batch, 3, card.inputHeight(), card.inputWidth()), 0.5f);
            NDArray g = Autograd.gradient(x, xx -> logits(xx).sum());
            float v = g.abs().sum().getFloat();
            if (!Float.isFinite(v)) {
                throw new IllegalStateException("the gradient on " + device + " is not finite");
            }
        }
    }
}
