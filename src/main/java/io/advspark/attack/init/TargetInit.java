package io.advspark.attack.init;

import ai.djl.ndarray.NDArray;
import io.advspark.attack.StepContext;
import io.advspark.vocabulary.Entry;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.Param;

/**
 * Target-image start for targeted attacks: {@code x_0 = x + alpha (x_t - x)}, clipped to the
 * eps-ball and [0,1] by the engine, where {@code x_t} is an image of the row's TARGET class (its
 * "guide", {@code ctx.guides()}). The same idea as the targeted Boundary Attack's start from an
 * image of the target class (Brendel, Rauber and Bethge, ICLR 2018), here confined to the
 * L-inf budget: the start already carries the target image's structure, wherever it differs
 * from x by more than eps as {@code x + eps sign(x_t - x)}.
 *
 * <p>Which guide (the job layer, {@code PartitionAttacker}): among the manifest's usable rows
 * whose TrueLabel is the row's TargetClass, the one with the smallest ImageId (String order),
 * read from storage whatever partition it falls in, from the whole manifest regardless of
 * {@code dataset.limit} (so an image's start does not depend on the limit or the partitioning),
 * resized bilinearly to the image's size if it has another. Where the manifest holds no image of
 * that class, or the guide cannot be read, the image is its own guide, i.e. the {@code zeros}
 * start, and a warning names the class (the driver also lists the classes without an image).
 *
 * <p>No published default: alpha 1.0 (ours) moves each pixel as far toward the target image as
 * the budget allows. Spec {@code target(alpha=1.0)}.
 */
public record TargetInit(double alpha) implements Initializer {
    public static final Entry<TargetInit> DECLARATION = Entry.of(Kind.INIT, "target", TargetInit.class)
            .summary("Blend x + alpha (x_t - x) toward the manifest's image of the row's target class, clipped to the budget")
            .paper("Brendel, Rauber and Bethge, ICLR 2018 (the targeted Boundary Attack's start)")
            .param(Param.dbl("alpha", 1.0, 0, 1,
                    "how far toward the target-class image"))
            .build(s -> new TargetInit(s.dbl("alpha")));

    @Override
    public NDArray start(StepContext ctx) {
        NDArray g = ctx.guides();
        if (g == null) {
            throw new IllegalStateException(
                    "init '" + spec() + "' needs one guide image (of the target class) per row; none was given");
        }
        NDArray x = ctx.clean();
        if (!g.getShape().equals(x.getShape())) {
            throw new IllegalArgumentException("guide images " + g.getShape() + " do not match the batch " + x.getShape());
        }
        return x.add(g.sub(x).mul((float) alpha));
    }

    @Override
    public boolean needsGuides() {
        return true;
    }
}
