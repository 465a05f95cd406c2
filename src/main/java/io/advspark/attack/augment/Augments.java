package io.advspark.attack.augment;

import io.advspark.model.ModelLoader;
import io.advspark.util.Messages;
import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Spec;
import java.util.List;

/** The model augmentations of a round as a check of its surrogates at load. */
public final class Augments {
    private Augments() {}

    /**
     * The load-time check that every surrogate with {@code augment = true} supports each of
     * {@code augment} (for dropout: the model has dropout sites and dropout really changes its
     * output; see {@link Dropout#checkSupport}); the message names the spec and the file.
     */
    public static ModelLoader.Check supportedBySurrogates(List<Spec> augment) {
        List<Spec> specs = List.copyOf(augment);
        return (spec, model, manager) -> {
            if (!spec.augment()) {
                return;
            }
            for (Spec s : specs) {
                ModelAugmentation a = Catalogue.build(s, ModelAugmentation.class);
                try {
                    a.checkSupport(model, manager);
                } catch (RuntimeException e) {
                    throw new ConfigException("advspark.attack.augment '" + s.render() + "' cannot be applied to surrogate "
                            + spec.path() + ": " + Messages.firstLine(e.getMessage()) + ". Use a scripted model with dropout"
                            + " sites (tools/ghost_model.py), or set augment = false on this model to keep it in the"
                            + " ensemble without dropout", e);
                }
            }
        };
    }
}
