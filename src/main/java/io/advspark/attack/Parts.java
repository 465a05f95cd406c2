package io.advspark.attack;

import io.advspark.attack.augment.Dropout;
import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.attack.filter.DctFilter;
import io.advspark.attack.filter.GaussianFilter;
import io.advspark.attack.filter.PerturbationFilter;
import io.advspark.attack.gradient.GradientTransform;
import io.advspark.attack.gradient.L1Normalize;
import io.advspark.attack.gradient.TranslationInvariant;
import io.advspark.attack.init.GaussianInit;
import io.advspark.attack.init.Initializer;
import io.advspark.attack.init.PerlinInit;
import io.advspark.attack.init.TargetInit;
import io.advspark.attack.init.UniformInit;
import io.advspark.attack.init.ZeroInit;
import io.advspark.attack.input.Admix;
import io.advspark.attack.input.Brightness;
import io.advspark.attack.input.DiverseInput;
import io.advspark.attack.input.Flip;
import io.advspark.attack.input.InputTransform;
import io.advspark.attack.input.Jpeg;
import io.advspark.attack.input.Noise;
import io.advspark.attack.input.Rotate;
import io.advspark.attack.input.ScaleInvariant;
import io.advspark.attack.input.Translate;
import io.advspark.attack.loss.CrossEntropy;
import io.advspark.attack.loss.Logit;
import io.advspark.attack.loss.Loss;
import io.advspark.attack.loss.Margin;
import io.advspark.attack.loss.PoTrip;
import io.advspark.attack.spec.Params;
import io.advspark.attack.spec.PartSpec;
import io.advspark.attack.spec.SpecException;
import io.advspark.attack.update.Momentum;
import io.advspark.attack.update.SignIterative;
import io.advspark.attack.update.UpdateRule;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The catalogue: part name -> factory, one table per kind. A new part is one class in its kind's
 * package plus one line here. Every factory reads its parameters through {@link Params}, so an
 * unknown parameter or a value out of range fails at configuration load, naming the spec.
 */
public final class Parts {
    private Parts() {}

    static final Map<String, Function<Params, UpdateRule>> UPDATES = new TreeMap<>();
    static final Map<String, Function<Params, Loss>> LOSSES = new TreeMap<>();
    static final Map<String, Function<Params, Initializer>> INITS = new TreeMap<>();
    static final Map<String, Function<Params, InputTransform>> INPUTS = new TreeMap<>();
    static final Map<String, Function<Params, GradientTransform>> GRADIENTS = new TreeMap<>();
    static final Map<String, Function<Params, PerturbationFilter>> FILTERS = new TreeMap<>();
    static final Map<String, Function<Params, ModelAugmentation>> AUGMENTS = new TreeMap<>();

    static {
        UPDATES.put("fgsm", p -> new SignIterative("fgsm"));
        UPDATES.put("ifgsm", p -> new SignIterative("ifgsm"));
        UPDATES.put("bim", p -> new SignIterative("ifgsm"));
        UPDATES.put("pgd", p -> new SignIterative("pgd"));
        UPDATES.put("mi", p -> new Momentum(p.dbl("decay", 1.0, 0, 100), false, 0, 0));
        UPDATES.put("ni", p -> new Momentum(p.dbl("decay", 1.0, 0, 100), true, 0, 0));
        UPDATES.put("vmi", p -> new Momentum(p.dbl("decay", 1.0, 0, 100), false,
                p.integer("n", 20, 1, 1000), p.dbl("beta", 1.5, 0, 100)));
        UPDATES.put("vni", p -> new Momentum(p.dbl("decay", 1.0, 0, 100), true,
                p.integer("n", 20, 1, 1000), p.dbl("beta", 1.5, 0, 100)));

        LOSSES.put("ce", p -> new CrossEntropy(p.dbl("untargeted", 1, -1e6, 1e6), p.dbl("targeted", 0, -1e6, 1e6)));
        LOSSES.put("logit", p -> new Logit());
        LOSSES.put("margin", p -> new Margin(
                p.choice("targeted", "false", "true", "false").equals("true"),
                p.dbl("kappa", Double.POSITIVE_INFINITY, 0, Double.POSITIVE_INFINITY)));
        LOSSES.put("cw", LOSSES.get("margin"));
        LOSSES.put("potrip", p -> new PoTrip(p.dbl("lambda", 0.01, 0, 1e6), p.dbl("margin", 0.007, 0, 2)));

        INITS.put("zeros", p -> new ZeroInit());
        INITS.put("uniform", p -> new UniformInit(p.dbl("radius", 1.0, 0, 1)));
        INITS.put("gaussian", p -> new GaussianInit(p.dbl("sigma", 0.5, 0, 10)));
        INITS.put("perlin", p -> new PerlinInit(p.dbl("period", 60, 1, 1e5), p.integer("octaves", 4, 1, 8),
                p.dbl("sine", 36, 0, 1000), p.dbl("amplitude", 1.0, 0, 1),
                p.choice("map", "sine", "sine", "sign").equals("sign")));
        INITS.put("target", p -> new TargetInit(p.dbl("alpha", 1.0, 0, 1)));

        GRADIENTS.put("ti", p -> new TranslationInvariant(p.choice("kernel", "gaussian", "gaussian", "uniform", "linear"),
                p.integer("size", 15, 1, 101), p.dbl("sigma", 3, 1e-3, 100)));
        GRADIENTS.put("l1", p -> new L1Normalize());

        INPUTS.put("di", p -> new DiverseInput(p.dbl("p", 0.5, 0, 1), p.dbl("resize", 1.1, 1, 4)));
        INPUTS.put("si", p -> new ScaleInvariant(p.integer("copies", 5, 1, 32)));
        INPUTS.put("admix", p -> new Admix(p.dbl("strength", 0.2, 0, 10), p.integer("mixes", 3, 1, 32),
                p.integer("copies", 5, 1, 32)));
        INPUTS.put("translate", p -> new Translate(p.dbl("max", 0.1, 0, 0.5)));
        INPUTS.put("rotate", p -> new Rotate(p.dbl("degrees", 10, 0, 180)));
        INPUTS.put("flip", p -> new Flip(p.dbl("p", 0.5, 0, 1)));
        INPUTS.put("noise", p -> new Noise(p.dbl("std", 0.05, 0, 10)));
        INPUTS.put("brightness", p -> new Brightness(p.integer("m", 5, 1, 32)));
        INPUTS.put("jpeg", p -> new Jpeg(p.integer("quality", 75, 0, 100)));

        FILTERS.put("gaussian", p -> new GaussianFilter(p.dbl("sigma", 1, 1e-3, 50)));
        FILTERS.put("dct", p -> new DctFilter(p.dbl("keep", 0.25, 1e-6, 1)));

        AUGMENTS.put("dropout", p -> new Dropout(p.dbl("p", 0.006, 0, 0.99)));
    }

    /** A model augmentation ({@code attack.augment}), e.g. {@code dropout(p=0.1)}. */
    public static ModelAugmentation augment(String spec) {
        return build(spec, "model augmentation", AUGMENTS);
    }

    public static UpdateRule update(String spec) {
        return build(spec, "update rule", UPDATES);
    }

    public static Loss loss(String spec) {
        return build(spec, "loss", LOSSES);
    }

    public static Initializer init(String spec) {
        return build(spec, "init", INITS);
    }

    public static InputTransform input(String spec) {
        return build(spec, "input transform", INPUTS);
    }

    public static GradientTransform gradient(String spec) {
        return build(spec, "gradient transform", GRADIENTS);
    }

    /** The filter for {@code spec}, or null for {@code none}. */
    public static PerturbationFilter filter(String spec) {
        if (PartSpec.parse(spec).name().equals("none")) {
            return null;
        }
        return build(spec, "perturbation filter", FILTERS);
    }

    private static <T> T build(String text, String kind, Map<String, Function<Params, T>> table) {
        PartSpec spec = PartSpec.parse(text);
        Function<Params, T> f = table.get(spec.name());
        if (f == null) {
            throw new SpecException(kind + " '" + text + "': unknown part '" + spec.name() + "' (known: "
                    + String.join(", ", table.keySet()) + ")");
        }
        Params p = spec.params(kind);
        T part = f.apply(p);
        p.done();
        return part;
    }
}
