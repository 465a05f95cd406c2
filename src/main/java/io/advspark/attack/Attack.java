package io.advspark.attack;

import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.attack.filter.PerturbationFilter;
import io.advspark.attack.gradient.GradientTransform;
import io.advspark.attack.init.Initializer;
import io.advspark.attack.input.InputTransform;
import io.advspark.attack.loss.Loss;
import io.advspark.attack.update.UpdateRule;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An attack as a composition of orthogonal parts plus its budget. Nothing here knows Spark: an
 * {@code Attack} can be built and run from a unit test or a notebook.
 *
 * @param epsPixels L-inf budget in 0..255 units
 * @param stepSizePixels step in 0..255 units
 * @param steps iterations
 * @param init starting point
 * @param inputs input transforms, applied in order each iteration
 * @param loss objective to ascend
 * @param gradients gradient transforms, applied in order
 * @param update update rule
 * @param filter perturbation filter, or null
 * @param copies independent draws of the input transforms per step, gradients averaged
 * @param ensembleMode how surrogate outputs are combined: a fusion ({@link EnsembleMode}) or a
 *     strategy over the members' own gradients ({@link io.advspark.attack.ensemble.EnsembleStrategy})
 * @param augments model augmentations (dropout inside the surrogates), applied at every forward
 */
public record Attack(
        double epsPixels,
        double stepSizePixels,
        int steps,
        Initializer init,
        List<InputTransform> inputs,
        Loss loss,
        List<GradientTransform> gradients,
        UpdateRule update,
        PerturbationFilter filter,
        int copies,
        Ensembling ensembleMode,
        List<ModelAugmentation> augments) {

    public Attack {
        inputs = List.copyOf(inputs);
        gradients = List.copyOf(gradients);
        augments = List.copyOf(augments);
        if (copies < 1) {
            throw new IllegalArgumentException("copies must be >= 1");
        }
        java.util.Objects.requireNonNull(ensembleMode, "ensembleMode");
    }

    /**
     * The strategy that asks for each member's gradient, or null when the ensemble is a fusion of
     * the members' outputs.
     */
    public io.advspark.attack.ensemble.EnsembleStrategy strategy() {
        return ensembleMode instanceof io.advspark.attack.ensemble.EnsembleStrategy s ? s : null;
    }

    /**
     * How the members' outputs are fused for the ensemble gradient: the mode itself, or for a
     * strategy the logit ensemble its papers start from.
     */
    public EnsembleMode fusion() {
        return ensembleMode instanceof EnsembleMode m ? m : EnsembleMode.LOGITS;
    }

    /** An attack without model augmentations. */
    public Attack(double epsPixels, double stepSizePixels, int steps, Initializer init, List<InputTransform> inputs,
            Loss loss, List<GradientTransform> gradients, UpdateRule update, PerturbationFilter filter, int copies,
            Ensembling ensembleMode) {
        this(epsPixels, stepSizePixels, steps, init, inputs, loss, gradients, update, filter, copies, ensembleMode,
                List.of());
    }

    /** An attack with one draw per step and the logit ensemble. */
    public Attack(double epsPixels, double stepSizePixels, int steps, Initializer init, List<InputTransform> inputs,
            Loss loss, List<GradientTransform> gradients, UpdateRule update, PerturbationFilter filter) {
        this(epsPixels, stepSizePixels, steps, init, inputs, loss, gradients, update, filter, 1, EnsembleMode.LOGITS);
    }

    /**
     * Surrogate rows per image of one gradient call: {@code copies} x every input transform's
     * copies (SI's scales, Admix's mixes) x the update rule's points (VMI's neighbours). A batch
     * of N images sends N times this many rows through each surrogate, cut under {@code max-rows}.
     */
    public long rowsPerImage() {
        long rows = (long) copies * update.points();
        for (InputTransform t : inputs) {
            rows *= t.copies();
        }
        return rows;
    }

    /** Index of the last input transform that builds its copies in chunks (the engine chunks that one), or -1. */
    public int chunkedTransform() {
        for (int i = inputs.size() - 1; i >= 0; i--) {
            if (inputs.get(i).copiesPerChunk() < inputs.get(i).copies()) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Of {@link #rowsPerImage()}, the rows per image alive at once: the transform that builds its
     * copies in chunks ({@link InputTransform#copiesPerChunk}, the last one, as the engine) counts
     * at its chunk; its points are built one after another.
     */
    public long rowsBuiltPerImage() {
        int split = chunkedTransform();
        if (split < 0) {
            return rowsPerImage();
        }
        long rows = copies;
        for (int i = 0; i < inputs.size(); i++) {
            rows *= i == split ? inputs.get(i).copiesPerChunk() : inputs.get(i).copies();
        }
        return rows;
    }

    /**
     * Row-sized arrays per image that the input transforms' graphs keep beyond their outputs (for
     * the memory estimate): per transform, its output rows alive at once times
     * {@code graphRowsPerOutputRow() - 1}. Transforms before a chunked one hold every point's
     * rows; the chunked one and those after it one point's chunk.
     */
    public double graphRowsPerImage() {
        int split = chunkedTransform();
        double sum = 0;
        long rows = copies;
        for (int i = 0; i < inputs.size(); i++) {
            InputTransform t = inputs.get(i);
            rows *= i == split ? t.copiesPerChunk() : t.copies();
            long alive = i < split || split < 0 ? rows * update.points() : rows;
            sum += alive * Math.max(0, t.graphRowsPerOutputRow() - 1);
        }
        return sum;
    }

    /** Budget on the [0,1] scale, as float32 like the tensors it bounds. */
    public float eps01() {
        return (float) (epsPixels / 255.0);
    }

    public float stepSize01() {
        return (float) (stepSizePixels / 255.0);
    }

    /** A short readable spec stored with every record. */
    public String spec() {
        StringBuilder b = new StringBuilder();
        b.append("eps=").append(num(epsPixels)).append(" steps=").append(steps)
                .append(" step=").append(num(stepSizePixels))
                .append(" update=").append(update.spec())
                .append(" loss=").append(loss.spec())
                .append(" init=").append(init.spec());
        if (!inputs.isEmpty()) {
            b.append(" input=[").append(inputs.stream().map(InputTransform::spec).collect(Collectors.joining(","))).append(']');
        }
        if (!gradients.isEmpty()) {
            b.append(" gradient=[").append(gradients.stream().map(GradientTransform::spec).collect(Collectors.joining(","))).append(']');
        }
        if (filter != null) {
            b.append(" filter=").append(filter.spec());
        }
        if (copies != 1) {
            b.append(" copies=").append(copies);
        }
        if (ensembleMode != EnsembleMode.LOGITS) {
            b.append(" ensemble=").append(ensembleMode.spec());
        }
        if (!augments.isEmpty()) {
            b.append(" augment=[").append(augments.stream().map(ModelAugmentation::spec).collect(Collectors.joining(","))).append(']');
        }
        return b.toString();
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
