package io.advspark.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.advspark.data.Storage;
import io.advspark.util.Fingerprint;
import io.advspark.util.Messages;
import io.advspark.vocabulary.ConfigException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and checks a round's models on the driver, before any image is touched: the card must
 * parse, the TorchScript must load, and a forward pass at the card's input size must return
 * exactly {@code num_classes} columns. A caller's {@link Check} then runs on each loaded model
 * (the attack's model augmentations probe their surrogates there: {@code attack.augment.Augments}).
 * Every message names the file.
 */
public final class ModelLoader {
    private ModelLoader() {}

    /** A further check of a loaded model, run with the model open on a torch thread. */
    @FunctionalInterface
    public interface Check {
        Check NONE = (spec, model, manager) -> {};

        /** Fails with a message naming {@code spec}'s file when the model does not qualify. */
        void check(ModelSource spec, Classifier model, NDManager manager);
    }

    public static List<ModelBundle> load(List<ModelSource> specs, Storage storage, int threads) {
        return load(specs, storage, threads, Check.NONE);
    }

    /** Loads and checks the models, running {@code check} on each after the forward probe. */
    public static List<ModelBundle> load(List<ModelSource> specs, Storage storage, int threads, Check check) {
        TorchRuntime.start(threads);
        List<ModelBundle> out = new ArrayList<>();
        for (ModelSource s : specs) {
            out.add(loadOne(s, storage, check));
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

    static ModelBundle loadOne(ModelSource spec, Storage storage, Check check) {
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
            probe(spec, card, bundle, check);
            return null;
        });
        return bundle;
    }

    /**
     * Reads and checks the purifier of a defense chain's {@code purify} stage, read through storage
     * like a model (any URI). The probe is a batch of two images at the size the purifier will see:
     * {@code sample} (the round's first clean image after the chain's image stages) and seeded
     * uniform noise of that size. The output must have the input's shape and every value in [0,1];
     * every refusal names the file.
     */
    public static PurifierBundle loadPurifier(String uri, Storage storage, io.advspark.data.RgbImage sample) {
        byte[] bytes;
        try {
            bytes = storage.readAll(uri);
        } catch (IOException e) {
            throw new ConfigException("purifier " + uri + ": " + e.getMessage(), e);
        }
        PurifierBundle bundle = new PurifierBundle(uri, bytes, Fingerprint.sha256(bytes));
        TorchThreads.callUnchecked(() -> {
            probePurifier(bundle, sample);
            return null;
        });
        return bundle;
    }

    private static void probePurifier(PurifierBundle bundle, io.advspark.data.RgbImage sample) {
        int h = sample.height();
        int w = sample.width();
        int per = 3 * h * w;
        float[] px = new float[2 * per];
        sample.toUnitFloats(px, 0);
        java.util.Random rnd = new java.util.Random(0x5EED);
        for (int i = per; i < px.length; i++) {
            px[i] = rnd.nextFloat();
        }
        try (Purifier p = Purifier.load(bundle, Device.cpu());
                NDManager m = TorchRuntime.newManager(Device.cpu())) {
            NDArray x = m.create(px, new Shape(2, 3, h, w));
            NDArray out;
            try {
                out = p.apply(x);
            } catch (IllegalStateException e) {
                throw new ConfigException(e.getMessage() + " (probed on a [2,3," + h + "," + w + "] input in [0,1])", e);
            }
            float[] y = out.toFloatArray();
            for (int i = 0; i < y.length; i++) {
                if (!(y[i] >= 0f && y[i] <= 1f)) {
                    throw new ConfigException("purifier " + bundle.uri() + " returns values outside [0,1] (e.g. " + y[i]
                            + " at index " + i + " of its output for a [2,3," + h + "," + w + "] input in [0,1]):"
                            + " a purifier must map images in [0,1] to images in [0,1] (clamp its output when exporting it)");
                }
            }
        } catch (IOException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

    private static void probe(ModelSource spec, ModelCard card, ModelBundle bundle, Check check) {
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
            check.check(spec, c, m);
        } catch (IOException e) {
            throw new ConfigException(e.getMessage(), e);
        }
    }

}
