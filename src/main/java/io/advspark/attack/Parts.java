package io.advspark.attack;

import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.attack.filter.PerturbationFilter;
import io.advspark.attack.gradient.GradientTransform;
import io.advspark.attack.init.Initializer;
import io.advspark.attack.input.InputTransform;
import io.advspark.attack.loss.Loss;
import io.advspark.attack.update.UpdateRule;
import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.Kind;
import io.advspark.vocabulary.PartSpec;

/**
 * Typed shortcuts into the {@link Catalogue} for the attack's part kinds: each parses a spec once
 * into a typed {@link io.advspark.vocabulary.Spec} and builds the part from it. The vocabulary
 * itself is declared by the part classes (docs/attack-parts.md lists it); an unknown part, an
 * unknown parameter or a value out of range fails with the spec quoted.
 */
public final class Parts {
    private Parts() {}

    /** A model augmentation ({@code attack.augment}), e.g. {@code dropout(p=0.1)}. */
    public static ModelAugmentation augment(String spec) {
        return Catalogue.create(Kind.AUGMENT, spec, ModelAugmentation.class);
    }

    public static UpdateRule update(String spec) {
        return Catalogue.create(Kind.UPDATE, spec, UpdateRule.class);
    }

    public static Loss loss(String spec) {
        return Catalogue.create(Kind.LOSS, spec, Loss.class);
    }

    public static Initializer init(String spec) {
        return Catalogue.create(Kind.INIT, spec, Initializer.class);
    }

    public static InputTransform input(String spec) {
        return Catalogue.create(Kind.INPUT, spec, InputTransform.class);
    }

    public static GradientTransform gradient(String spec) {
        return Catalogue.create(Kind.GRADIENT, spec, GradientTransform.class);
    }

    /** The filter for {@code spec}, or null for {@code none}. */
    public static PerturbationFilter filter(String spec) {
        if (PartSpec.parse(spec).name().equals("none")) {
            return null;
        }
        return Catalogue.create(Kind.FILTER, spec, PerturbationFilter.class);
    }

    /**
     * The ensemble ({@code attack.ensemble}): a fusion {@code logits}, {@code probs} or
     * {@code losses}, or a strategy such as {@code svre(m=0)}.
     */
    public static Ensembling ensemble(String spec) {
        return Catalogue.create(Kind.ENSEMBLE, spec, Ensembling.class);
    }
}
