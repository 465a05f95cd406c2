package io.advspark.job;

import io.advspark.util.Fingerprint;
import io.advspark.util.Messages;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.attack.Parts;
import io.advspark.attack.augment.ModelAugmentation;
import io.advspark.config.ConfigException;
import io.advspark.config.ModelSpec;
import io.advspark.data.Storage;
import io.advspark.model.Autograd;
import io.advspark.model.Classifier;
import io.advspark.model.ModelBundle;
import io.advspark.model.ModelCard;
import io.advspark.model.TorchRuntime;
import io.advspark.model.TorchThreads;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and checks a round's models on the driver, before any image is touched: the card must
 * parse, the TorchScript must load, and a forward pass at the card's input size must return
 * exactly {@code num_classes} columns. With {@code attack.augment}, every surrogate it applies to
 * must pass the augmentation's own probe (for dropout: the model has dropout sites, and dropout
 * really changes its output; see {@link io.advspark.attack.augment.Dropout#checkSupport}). Every
 * message names the file (and the augmentation's spec).
 */
public final class ModelLoader {
    private ModelLoader() {}

    public static List<ModelBundle> load(List<ModelSpec> specs, Storage storage, int threads) {
        return load(specs, storage, threads, List.of());
    }

    /**
     * Loads and checks the surrogates; {@code augment} holds the {@code attack.augment} specs,
     * probed on every model whose {@code augment} flag is on.
     */
    public static List<ModelBundle> load(List<ModelSpec> specs, Storage storage, int threads, List<String> augment) {
        TorchRuntime.start(threads);
        augment.forEach(Parts::augment); // a bad spec fails here already, as at configuration load
        List<ModelBundle> out = new ArrayList<>();
        for (ModelSpec s : specs) {
            out.add(loadOne(s, storage, augment));
        }
        int classes = out.get(0).card().datasetClasses();
        for (ModelBundle b : out) {
            if (b.card().datasetClasses() != classes) {
                throw new ConfigException(
                        "models disagree on dataset_classes: " + out.get(0).card().name() + " has " + classes + ", "
                                + b.card().name() + " (" + b.uri() + ") has " + b.card().datasetClasses());
            }
        }
        return out;
    }

    static ModelBundle loadOne(ModelSpec spec, Storage storage, List<String> augment) {
        byte[] cardBytes;
        try {
            cardBytes = storage.readAll(spec.card());
        } catch (IOException e) {
            throw new ConfigException("model card " + spec.card() + " (for " + spec.path() + "): " + e.getMessage(), e);
        }
        ModelCard card;
        try {
            card = ModelCard.parse(cardBytes, spec.card());
        } catch (IOException e) {
            throw new ConfigException(e.getMessage(), e);
        }
        byte[] bytes;
        try {
            bytes = storage.readAll(spec.path());
        } catch (IOException e) {
            throw new ConfigException("model " + spec.path() + ": " + e.getMessage(), e);
        }
        ModelBundle bundle = new ModelBundle(spec.path(), card, bytes, spec.weight(), spec.augment(), spec.card(),
                Fingerprint.sha256(cardBytes));
        // On a torch worker: in local mode the tasks share this JVM and reuse that thread and its
        // OpenMP team instead of starting another one beside the driver's (see TorchThreads).
        TorchThreads.callUnchecked(() -> {
            probe(spec, card, bundle, spec.augment() ? augment : List.of());
            return null;
        });
        return bundle;
    }

    private static void probe(ModelSpec spec, ModelCard card, ModelBundle bundle, List<String> augment) {
        try (Classifier c = Classifier.load(bundle);
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            NDArray probe = m.zeros(new Shape(1, 3, card.inputHeight(), card.inputWidth()));
            Shape out;
            try {
                out = Autograd.noGrad(() -> c.rawForward(probe).getShape());
            } catch (RuntimeException e) {
                throw new ConfigException(
                        "model " + spec.path() + " fails on a [1,3," + card.inputHeight() + "," + card.inputWidth()
                                + "] input as its card " + spec.card() + " describes: " + Messages.firstLine(e.getMessage()), e);
            }
            if (out.dimension() != 2 || out.get(0) != 1 || out.get(1) != card.numClasses()) {
                throw new ConfigException(
                        "model " + spec.path() + " returns shape " + out + " but its card " + spec.card()
                                + " says num_classes=" + card.numClasses());
            }
            for (String text : augment) {
                ModelAugmentation a = Parts.augment(text);
                try {
                    a.checkSupport(c, m);
                } catch (RuntimeException e) {
                    throw new ConfigException("advspark.attack.augment '" + text + "' cannot be applied to surrogate "
                            + spec.path() + ": " + Messages.firstLine(e.getMessage()) + ". Use a scripted model with dropout sites"
                            + " (tools/ghost_model.py), or set augment = false on this model to keep it in the ensemble without dropout", e);
                }
            }
        } catch (IOException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

}
