package io.advspark.attack.augment;

import io.advspark.model.ModelLoader;
import io.advspark.util.Messages;
import io.advspark.vocabulary.Catalogue;
import io.advspark.vocabulary.ConfigException;
import io.advspark.vocabulary.Spec;
import io.advspark.model.ModelBundle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
                if (!a.usesDropoutSites()) {
                    continue; // checked on the loaded groups as a whole (checkGroups)
                }
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

    /**
     * The driver's check of one attack's augmentations against the loaded surrogates: a
     * {@code checkpoints(per-step=k)} needs at least one checkpoint group with {@code augment = true}
     * and k members or more in each such group, and does not combine with dropout (the members'
     * rows differ from the masks' rows) or with {@code ensemble = probs}.
     *
     * @param name the attack's name, for the message
     */
    public static void checkGroups(String name, io.advspark.attack.Attack attack, List<ModelBundle> bundles) {
        List<ModelAugmentation> built = attack.augments();
        String fusion = attack.ensembleMode().spec();
        for (ModelAugmentation a : built) {
            if (!(a instanceof Checkpoints c)) {
                continue;
            }
            String where = "attack '" + attack + "': advspark.attack.augment '" + c.spec() + "'";
            if (built.stream().anyMatch(ModelAugmentation::usesDropoutSites)) {
                throw new ConfigException(where + " does not combine with a dropout augmentation yet");
            }
            if (attack.strategy() != null || attack.fusion() == io.advspark.attack.EnsembleMode.PROBS) {
                throw new ConfigException(where + " needs ensemble = logits or losses, not '" + fusion + "'");
            }
            Map<String, Integer> sizes = new LinkedHashMap<>();
            for (ModelBundle b : bundles) {
                if (b.group() != null && b.augment()) {
                    sizes.merge(b.group(), 1, Integer::sum);
                }
            }
            if (sizes.isEmpty()) {
                throw new ConfigException(where + " needs a surrogate entry naming a checkpoint group"
                        + " ({ group = \"folder\" }, augment = true); every surrogate here is a single file");
            }
            for (var e : sizes.entrySet()) {
                if (e.getValue() < c.perStep()) {
                    throw new ConfigException(where + ": checkpoint group " + e.getKey() + " has " + e.getValue()
                            + " member(s), fewer than per-step=" + c.perStep());
                }
            }
        }
    }
}
