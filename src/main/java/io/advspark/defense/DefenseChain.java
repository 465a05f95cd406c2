package io.advspark.defense;

import io.advspark.data.RgbImage;
import io.advspark.vocabulary.Catalogue;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.UnaryOperator;

/**
 * A defended variant of a target: defenses applied left to right, then the model, written
 * {@code jpeg(75) > bits(4) > model}. The trailing {@code > model} is optional; {@code model}
 * or {@code none} alone is the undefended target. The canonical spec ({@link #spec()}) spells
 * out every parameter and ends in {@code model}.
 *
 * <p>Image stages ({@link Defense}, on the 8-bit image: {@link #apply}) come first; then the tensor
 * stages ({@link TensorDefense}: purifiers and at most one randomized smoothing), which the round's
 * scorer runs on the float image in the written order, e.g.
 * {@code jpeg(75) > purify(path=nrp.pt) > rs(sigma=0.25,n=100) > model}: smoothing votes over the
 * stages after it and the model.
 *
 * @param stages the image stages, in order
 * @param tensorStages the tensor stages, in order, after every image stage
 */
public record DefenseChain(List<Defense> stages, List<TensorDefense> tensorStages) implements java.io.Serializable {
    public static final DefenseChain NONE = new DefenseChain(List.of());

    public DefenseChain {
        stages = List.copyOf(stages);
        tensorStages = List.copyOf(tensorStages);
        if (tensorStages.stream().filter(RandomizedSmoothing.class::isInstance).count() > 1) {
            throw new IllegalArgumentException("a defense chain takes at most one rs stage");
        }
    }

    /** A chain of image stages only. */
    public DefenseChain(List<Defense> stages) {
        this(stages, List.of());
    }

    /** Parses a chain; an unknown defense, a bad parameter or a bad order fails with the chain quoted. */
    public static DefenseChain parse(String text) {
        String s = text == null ? "" : text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty defense chain (use \"model\" for the undefended target)");
        }
        String[] parts = s.split(">");
        List<Defense> out = new ArrayList<>();
        List<TensorDefense> tensor = new ArrayList<>();
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i].trim();
            boolean last = i == parts.length - 1;
            if (p.equalsIgnoreCase("model") || (parts.length == 1 && p.equalsIgnoreCase("none"))) {
                if (!last) {
                    throw new IllegalArgumentException("defense chain '" + s + "': 'model' must come last");
                }
                continue;
            }
            if (p.isEmpty()) {
                throw new IllegalArgumentException("defense chain '" + s + "': empty stage");
            }
            Object stage;
            try {
                stage = Defenses.parseStage(p);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("defense chain '" + s + "': " + e.getMessage(), e);
            }
            if (stage instanceof TensorDefense t) {
                if (t instanceof RandomizedSmoothing && tensor.stream().anyMatch(RandomizedSmoothing.class::isInstance)) {
                    throw new IllegalArgumentException("defense chain '" + s + "': at most one rs stage");
                }
                tensor.add(t);
            } else if (!tensor.isEmpty()) {
                // The tensor stages hand on float images (a purifier's output is not 8-bit).
                throw new IllegalArgumentException("defense chain '" + s + "': image defense '" + p
                        + "' must come before " + tensor.get(0).spec());
            } else {
                out.add((Defense) stage);
            }
        }
        return new DefenseChain(out, tensor);
    }

    public boolean isNone() {
        return stages.isEmpty() && tensorStages.isEmpty();
    }

    /** Whether any stage draws random numbers (by its catalogue declaration). */
    public boolean randomised() {
        return stages.stream().anyMatch(Defenses::randomised) || tensorStages.stream().anyMatch(Defenses::randomised);
    }

    /** The chain's randomized smoothing stage, if any. */
    public Optional<RandomizedSmoothing> smoothing() {
        return tensorStages.stream().filter(RandomizedSmoothing.class::isInstance).map(RandomizedSmoothing.class::cast)
                .findFirst();
    }

    /** The files of the chain's purifiers, in order. */
    public List<String> purifierPaths() {
        return tensorStages.stream().filter(Purify.class::isInstance).map(t -> ((Purify) t).path()).toList();
    }

    /** The same chain with every purifier's path passed through {@code resolve} (made absolute at configuration load). */
    public DefenseChain withResolvedPaths(UnaryOperator<String> resolve) {
        List<TensorDefense> t = new ArrayList<>();
        for (TensorDefense d : tensorStages) {
            t.add(d instanceof Purify p ? p.resolved(resolve) : d);
        }
        return new DefenseChain(stages, t);
    }

    /** The image stages only; the tensor stages are the scorer's ({@link #tensorStages()}). */
    public RgbImage apply(RgbImage image, Random rnd) {
        RgbImage x = image;
        for (Defense d : stages) {
            x = d.apply(x, rnd);
        }
        return x;
    }

    /** {@code jpeg(quality=75) > bits(bits=4) > model}; {@code model} for no defense. */
    public String spec() {
        StringBuilder b = new StringBuilder();
        for (Defense d : stages) {
            b.append(d.spec()).append(" > ");
        }
        for (TensorDefense d : tensorStages) {
            b.append(d.spec()).append(" > ");
        }
        return b.append("model").toString();
    }

    /**
     * The canonical name of every stage in application order (image stages, then tensor stages),
     * without the final {@code model}: empty for the undefended target. The {@code defense_names}
     * column of the evaluation tables.
     */
    public List<String> stageNames() {
        return allStages().stream().map(d -> Catalogue.describe(d).name()).toList();
    }

    /**
     * Each stage's parameters as its canonical spec writes them ({@code quality=75}), in the order
     * of {@link #stageNames()}; null for a stage whose spec has none. The {@code defense_params}
     * column of the evaluation tables.
     */
    public List<String> stageParams() {
        List<String> out = new ArrayList<>();
        for (Object d : allStages()) {
            io.advspark.vocabulary.Spec s = Catalogue.describe(d);
            out.add(s.entry().renderParams(s));
        }
        return java.util.Collections.unmodifiableList(out);
    }

    private List<Object> allStages() {
        List<Object> all = new ArrayList<>(stages);
        all.addAll(tensorStages);
        return all;
    }

    @Override
    public String toString() {
        return spec();
    }
}
