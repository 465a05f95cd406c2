package io.advspark.attack;

import io.advspark.attack.filter.PerturbationFilter;
import io.advspark.attack.gradient.GradientTransform;
import io.advspark.attack.init.Initializer;
import io.advspark.attack.init.ZeroInit;
import io.advspark.attack.input.InputTransform;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.attack.loss.Loss;
import io.advspark.attack.update.MomentumIterative;
import io.advspark.attack.update.UpdateRule;
import io.advspark.config.AttackConfig;
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
        PerturbationFilter filter) {

    public Attack {
        inputs = List.copyOf(inputs);
        gradients = List.copyOf(gradients);
    }

    /** The attack a round's {@code attack} section describes (MI-FGSM with a CE objective). */
    public static Attack fromConfig(AttackConfig c) {
        return new Attack(
                c.epsPixels(),
                c.stepSizePixels(),
                c.steps(),
                new ZeroInit(),
                List.of(),
                new CrossEntropy(c.effectiveUntargetedWeight(), c.effectiveTargetedWeight()),
                List.of(),
                new MomentumIterative(c.decay()),
                null);
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
        return b.toString();
    }

    private static String num(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
